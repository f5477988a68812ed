"""The whole platform behind Traefik, started from the Procfile once per session."""

import pytest

from config import variables as v
from config.environment import environment
from harness.clients import ApiClient
from harness.fakes import ModelServerProcess, WeatherServerProcess
from harness.stack import Stack


@pytest.fixture(scope="session")
def model_server():
    with ModelServerProcess() as server:
        yield server


@pytest.fixture(scope="session")
def weather_server():
    with WeatherServerProcess() as server:
        yield server


@pytest.fixture(scope="session")
def stack(tmp_path_factory, model_server, weather_server):
    platform = Stack(
        tmp_path_factory.mktemp("stack"),
        environment=environment(
            {
                v.LOGIN_MAX_FAILURES: 5,
                # Every test's requests come from 127.0.0.1: the per-address limits
                # are tested on a platform of their own (test_abuse_limits.py).
                v.LOGIN_MAX_FAILURES_PER_CLIENT: 100000,
                v.REGISTER_MAX_PER_CLIENT: 100000,
                v.WS_SESSION_RECHECK_INTERVAL: 2,
                v.RPC_TIMEOUT: 3,
                v.OPENAI_API_KEY: "test-key",
                v.OPENAI_BASE_URL: model_server.base_url,
                v.SUPPORT_AI_TIMEOUT: 2,
                # Generation forecasts read the cloud cover of a local stand-in of
                # Open-Meteo (test_forecast.py).
                v.WEATHER_URL: weather_server.url,
                # Small enough for test_quotas.py to reach within the message quota.
                v.SUPPORT_MAX_AI_CALLS_PER_HOUR: 3,
                # A device of a 1 s reading interval is offline after 3 × 1 s + 1 s,
                # found within a second (test_device_status.py).
                v.STATUS_CHECK_SECONDS: 1,
                # Alarm rules are judged every second, held e-mail and digests
                # looked at every second (test_alarms.py).
                v.ALARM_EVALUATE_SECONDS: 1,
                v.ALARM_NOTIFY_SECONDS: 1,
                v.OFFLINE_GRACE_SECONDS: 1,
                # Auto batteries act every 2 s on plan steps of 6 s
                # (test_battery_auto.py).
                v.BATTERY_CONTROL_INTERVAL: 2,
                v.BATTERY_PLAN_STEP: 6,
                # The demo household's history is two days here, not 60: enough to
                # go through the ingest without loading every test session.
                v.DEMO_HISTORY_DAYS: 2,
                # The last DST days of a European and an American time zone are
                # at most a year old (test_site_energy.py); raw readings are kept
                # longer than that, so the back-fill window is what refuses an
                # old reading (test_dead_letters.py).
                v.BACKFILL_DAYS: 400,
                v.READINGS_RETENTION_DAYS: 402,
                # Prometheus reads every process each second and an alert fires
                # after 2 s (test_alerting.py); its e-mail goes to an address of
                # its own.
                v.SCRAPE_INTERVAL: "1s",
                v.ALERT_FOR: "2s",
                v.ALERT_EMAIL: "alerts@ems.test",
            }
        ),
    )
    with platform:
        yield platform


@pytest.fixture(scope="session")
def anonymous(stack):
    return ApiClient(stack.base_url)


@pytest.fixture(scope="session")
def admin(stack, anonymous):
    return anonymous.login(stack.admin_email, stack.admin_password)


@pytest.fixture
def device(new_user):
    """A meter of a fresh account: ``(device, user, logged-in client)``."""
    user, client = new_user()
    created = client.post(
        "/api/devices", {"name": "Meter", "kind": "meter", "max_hourly_kwh": 1.0}
    )
    assert created.status_code == 201, created.text
    return created.json(), user, client


@pytest.fixture
def new_user(anonymous):
    """Registers a fresh account and returns ``(user, logged-in client)``."""
    import uuid

    def make(name="Ada"):
        email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        response = anonymous.post(
            "/api/auth/register",
            {"email": email, "password": "password-1", "name": name},
        )
        assert response.status_code == 201, response.text
        user = response.json()
        # Sign-ups need no confirmation on this platform (test_accounts.py turns
        # it on where it checks it); the rest is the user as /api/users gives it.
        assert user.pop("email_verified") is True
        return user, anonymous.login(email, "password-1")

    return make
