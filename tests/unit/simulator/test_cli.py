"""``ems simulate``: its arguments, its schedules, its totals, its device listing."""

import argparse
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from ems.cli import parser
from services.common.topology import iso_utc
from simulator import cli, devices
from simulator.cli import (
    AccountDevices,
    ApiRefused,
    FixedDevices,
    Run,
    backfill,
    backfill_ends,
    check_arguments,
    live,
    parse_device,
    parse_duration,
    parse_interval,
    parse_start,
)
from simulator.profiles import Device, interval_kwh
from simulator.publisher import Publisher, Stopped, Stopper

NOW = datetime(2026, 11, 22, 10, 7, 30, tzinfo=UTC)


def simulate(*argv):
    return parser().parse_args(["simulate", *argv])


# -- arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, device",
    [
        ("d1", Device("d1", "meter", 0.5)),
        ("d1:2.5", Device("d1", "meter", 2.5)),
        ("d1:heat_pump", Device("d1", "heat_pump", 0.5)),
        ("d1:ev_charger:11", Device("d1", "ev_charger", 11.0)),
        (
            "7a2e0c1b-0000-4000-8000-000000000001:pv:3",
            Device("7a2e0c1b-0000-4000-8000-000000000001", "pv", 3.0),
        ),
    ],
)
def test_device_specs(spec, device):
    assert parse_device(spec) == device


@pytest.mark.parametrize(
    "spec",
    ["", ":1", "d1:toaster", "d1:meter:0", "d1:-1", "d1:meter:1:2", "a.b", "a/b", "a#"],
)
def test_bad_device_specs(spec):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_device(spec)


def test_devices_repeat_and_the_defaults_hold():
    args = simulate("--device", "a", "--device", "b:battery:4")
    assert args.devices == [Device("a"), Device("b", "battery", 4.0)]
    assert args.handler is cli.run
    assert (args.rate, args.interval) == (1.0, timedelta(minutes=15))
    assert (args.count, args.duration, args.start, args.mqtt) == (None,) * 3 + (False,)


def test_devices_come_from_options_or_an_account_not_both(capsys):
    with pytest.raises(SystemExit):
        simulate("--count", "3")
    with pytest.raises(SystemExit):
        simulate("--device", "a", "--email", "x@example.com")
    args = simulate("--email", "x@example.com", "--password", "pw")
    assert args.devices is None and args.email == "x@example.com"


def test_count_and_duration_exclude_each_other(capsys):
    with pytest.raises(SystemExit):
        simulate("--device", "a", "--count", "5", "--duration", "10")
    assert "not allowed with argument" in capsys.readouterr().err
    assert simulate("--device", "a", "--count", "5").count == 5
    assert simulate("--device", "a", "--duration", "2m").duration == timedelta(
        minutes=2
    )
    for bad in (["--count", "0"], ["--count", "1.5"], ["--rate", "0"]):
        with pytest.raises(SystemExit):
            simulate("--device", "a", *bad)


@pytest.mark.parametrize(
    "text, seconds",
    [("900", 900), ("90s", 90), ("15m", 900), ("1h", 3600), ("1d", 86400)],
)
def test_intervals(text, seconds):
    assert parse_interval(text) == timedelta(seconds=seconds)


def test_durations_may_be_fractional_but_intervals_are_whole_seconds():
    assert parse_duration("2.5") == timedelta(seconds=2.5)
    for bad in ("0", "-5", "15x", "m", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_interval("1.5")


@pytest.mark.parametrize(
    "text",
    ["2026-11-22T07:00:00Z", "2026-11-22T07:00:00+00:00", "2026-11-22T08:00:00+01:00"],
)
def test_start_times_become_utc(text):
    assert parse_start(text) == datetime(2026, 11, 22, 7, tzinfo=UTC)


def test_start_without_offset_is_utc_and_garbage_is_refused():
    assert parse_start("2026-11-22T07:00") == datetime(2026, 11, 22, 7, tzinfo=UTC)
    assert parse_start("2026-11-22") == datetime(2026, 11, 22, tzinfo=UTC)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_start("yesterday")
    with pytest.raises(SystemExit):
        simulate("--device", "a", "--start", "yesterday")


def test_what_argparse_cannot_check():
    assert check_arguments(simulate("--device", "a"), NOW) is None
    no_password = simulate("--email", "x@example.com")
    assert "--password" in check_arguments(no_password, NOW)
    future = simulate("--device", "a", "--start", "2026-11-22T11:00:00Z")
    assert "past" in check_arguments(future, NOW)


# -- schedules and totals --------------------------------------------------------


class FakePublisher(Publisher):
    transport = "fake"

    def __init__(self, stopper, failures_before_success=0):
        super().__init__(stopper)
        self.published = []
        self.failing = failures_before_success

    def send(self, reading, body):
        if self.failing:
            self.failing -= 1
            raise OSError("broker away")
        self.published.append(json.loads(body))


def make_run(count=None, failures=0, deadline=None):
    stopper = Stopper(deadline)
    publisher = FakePublisher(stopper, failures)
    return Run(publisher, stopper, 1, 0.0, count=count, out=io.StringIO())


def test_backfill_covers_every_interval_ending_after_start_up_to_now():
    ends = backfill_ends(NOW - timedelta(hours=3), NOW, timedelta(minutes=15))
    assert len(ends) == 12
    assert ends[0] == datetime(2026, 11, 22, 7, 15, tzinfo=UTC)
    assert ends[-1] == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    # An interval ending exactly at start is before it; one ending exactly now is in.
    seven, quarter = datetime(2026, 11, 22, 7, tzinfo=UTC), timedelta(minutes=15)
    ends = backfill_ends(seven, seven + timedelta(hours=1), quarter)
    assert ends == [seven + quarter * k for k in range(1, 5)]
    assert backfill_ends(seven, seven + timedelta(minutes=14), quarter) == []


def test_backfill_publishes_contract_readings_and_totals_them(monkeypatch):
    monkeypatch.setattr(cli, "utc_now", lambda: NOW)
    run = make_run()
    devices = [Device("a"), Device("b", "heat_pump", 2.0)]
    backfill(run, devices, NOW - timedelta(hours=1), timedelta(minutes=15))
    published = run.publisher.published
    assert len(published) == 8
    assert [r["device_id"] for r in published[:2]] == ["a", "b"]
    for reading in published:
        assert set(reading) == {"reading_id", "device_id", "timestamp", "kwh"}
        assert reading["timestamp"].endswith(":00Z") and reading["kwh"] >= 0
        assert reading["kwh"] == round(reading["kwh"], 6)
    assert len({r["reading_id"] for r in published}) == 8
    summary = run.summary(reading_ids=True)
    assert summary["confirmed"] == summary["sent"] == 8 and summary["resent"] == 0
    assert summary["kwh_by_device"]["b"] == pytest.approx(
        sum(r["kwh"] for r in published if r["device_id"] == "b"), abs=1e-9
    )
    assert summary["reading_ids"] == [r["reading_id"] for r in published]
    assert "reading_ids" not in run.summary()
    run.print_summary()
    assert "sent 8, confirmed 8, resent 0" in run.out.getvalue()


def test_backfill_stops_at_the_count(monkeypatch):
    monkeypatch.setattr(cli, "utc_now", lambda: NOW)
    run = make_run(count=5)
    backfill(
        run, [Device("a"), Device("b")], NOW - timedelta(hours=1), timedelta(minutes=15)
    )
    assert len(run.publisher.published) == 5


def test_live_cycles_over_the_devices_and_covers_the_time_since_the_last_reading(
    monkeypatch,
):
    asked = []

    def recording(device, end, interval, *args):
        asked.append((device.id, end, interval))
        return interval_kwh(device, end, interval, *args)

    monkeypatch.setattr(devices, "interval_kwh", recording)
    run = make_run(count=6)
    # 3 devices at 3 readings a second: each device about every second.
    live(run, FixedDevices([Device("a"), Device("b"), Device("c")]), 3, 30)
    published = run.publisher.published
    assert [r["device_id"] for r in published] == ["a", "b", "c"] * 2
    assert [r["timestamp"] for r in published] == [iso_utc(end) for _, end, _ in asked]
    assert abs(asked[0][1] - datetime.now(UTC)) < timedelta(seconds=10)
    assert [interval for _, _, interval in asked[:3]] == [timedelta(seconds=1)] * 3
    for before, after in zip(asked[:3], asked[3:], strict=True):
        assert after[0] == before[0] and after[2] == after[1] - before[1]
        assert timedelta(0) <= after[2] <= timedelta(seconds=2)


def test_a_failed_publish_is_resent_with_the_same_reading_id(capsys):
    run = make_run(count=1, failures=2)
    run.publisher.backoff.first = run.publisher.backoff.delay = 0.01
    live(run, FixedDevices([Device("a")]), 100, 30)
    publisher = run.publisher
    assert (publisher.sent, publisher.resent, publisher.confirmed) == (1, 2, 1)
    assert "resending" in capsys.readouterr().err


def test_a_stop_while_resending_leaves_the_reading_unconfirmed():
    stopper = Stopper()
    publisher = FakePublisher(stopper, failures_before_success=10)
    stopper.stop()
    with pytest.raises(Stopped):
        publisher.publish({"reading_id": "r", "device_id": "a"})
    assert (publisher.sent, publisher.confirmed) == (1, 0)


# -- the account's devices -------------------------------------------------------


class Response:
    def __init__(self, status, body):
        self.status_code, self.body = status, body

    def json(self):
        return self.body


class FakeHttp:
    """Answers from a script: each call takes the next answer of its route."""

    def __init__(self, answers):
        self.answers, self.calls = answers, []

    def _answer(self, method, url, **kwargs):
        route = f"{method} {url.split('127.0.0.1:8080')[1]}"
        self.calls.append((route, kwargs))
        answer = self.answers[route].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def post(self, url, **kwargs):
        return self._answer("POST", url, **kwargs)

    def get(self, url, **kwargs):
        return self._answer("GET", url, **kwargs)


TOKEN = {"access_token": "t1", "token_type": "Bearer", "expires_in": 3600}
DEVICE = {"id": "d1", "kind": "heat_pump", "max_hourly_kwh": 2.0, "name": "HP"}


def account(answers):
    directory = AccountDevices("http://127.0.0.1:8080/", "a@x.io", "pw", Stopper())
    directory.http = FakeHttp(answers)
    return directory


def test_devices_are_listed_with_a_token(monkeypatch):
    directory = account(
        {
            "POST /api/auth/login": [Response(200, TOKEN)],
            "GET /api/devices": [Response(200, [DEVICE, {"id": "d2"}, {"bad": 1}])],
        }
    )
    assert directory.wait() == [Device("d1", "heat_pump", 2.0), Device("d2")]
    route, kwargs = directory.http.calls[1]
    assert kwargs["headers"] == {"Authorization": "Bearer t1"}


def test_the_simulator_waits_for_the_api_and_logs_in_again(monkeypatch, capsys):
    monkeypatch.setattr(Stopper, "sleep", lambda self, seconds: True)
    directory = account(
        {
            "POST /api/auth/login": [
                requests.ConnectionError("refused"),
                Response(502, {}),
                Response(401, {"error": "UNAUTHORIZED", "message": "bad login"}),
                Response(200, TOKEN),
                Response(200, TOKEN),
            ],
            "GET /api/devices": [Response(401, {}), Response(200, [DEVICE])],
        }
    )
    assert directory.wait() == [Device("d1", "heat_pump", 2.0)]
    assert "not ready" in capsys.readouterr().err


def test_a_bad_request_is_not_retried():
    directory = account({"POST /api/auth/login": [Response(400, {"message": "email"})]})
    with pytest.raises(ApiRefused):
        directory.wait()


def test_a_failed_refresh_keeps_the_old_list():
    directory = account({"POST /api/auth/login": [Response(503, {})]})
    assert directory.refresh() is None


# -- devices that talk back ------------------------------------------------------


def test_behaviours_and_locations_are_parsed():
    args = simulate(
        "--email", "x@example.com", "--commands",
        "--behaviour", "d1=reject", "--behaviour", "d2=silent",
        "--location=-33.9,18.4",
    )  # fmt: skip
    assert args.commands and args.behaviours == [
        ("d1", cli.Behaviour.REJECT),
        ("d2", cli.Behaviour.SILENT),
    ]
    assert args.location == (-33.9, 18.4)
    for bad in ("d1", "d1=", "d1=explode", "=reject", "a.b=ignore"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_behaviour(bad)
    for bad in ("51", "91,0", "0,181", "north,east", "1,2,3"):
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_location(bad)


def test_commands_need_credentials_and_a_live_run():
    password = ["--password", "pw"]
    assert "--commands needs" in check_arguments(
        simulate("--device", "a", "--commands"), NOW
    )
    backfill_args = simulate(
        "--email", "x@example.com", *password, "--commands",
        "--start", "2026-11-22T07:00:00Z",
    )  # fmt: skip
    assert "live only" in check_arguments(backfill_args, NOW)
    lonely = simulate("--email", "x@example.com", *password, "--behaviour", "d=ignore")
    assert "--behaviour" in check_arguments(lonely, NOW)
    fine = simulate("--email", "x@example.com", *password, "--commands")
    assert check_arguments(fine, NOW) is None


def test_a_pv_system_and_a_battery_report_what_they_deliver_and_store(monkeypatch):
    monkeypatch.setattr(cli, "utc_now", lambda: datetime(2026, 6, 21, 13, tzinfo=UTC))
    run = make_run()
    devices_ = [Device("m"), Device("pv", "pv", 4.0), Device("bat", "battery", 5.0)]
    backfill(run, devices_, datetime(2026, 6, 21, 12, tzinfo=UTC), timedelta(hours=1))
    meter, pv, battery = run.publisher.published
    assert set(meter) == {"reading_id", "device_id", "timestamp", "kwh"}
    assert set(pv) == set(meter) | {"export_kwh", "power_w"}
    assert pv["export_kwh"] > 1 and pv["power_w"] < -1000
    assert set(battery) == set(pv) | {"soc_kwh"}
    assert battery["soc_kwh"] == 5.0 and battery["export_kwh"] == 0
    summary = run.summary()
    assert summary["export_kwh_by_device"] == {"pv": pv["export_kwh"], "bat": 0.0}
    lines = run.out.getvalue().splitlines()
    assert "export" in lines[1] and "soc 5.000 kWh" in lines[2]
    run.print_summary()
    assert "  pv  0.000000 kWh in 1 readings, export" in run.out.getvalue()


def test_devices_that_talk_back_report_their_power_and_a_silent_one_nothing():
    class Silencing(FakePublisher):
        def is_silent(self, device_id):
            return device_id == "quiet"

    stopper = Stopper()
    run = Run(Silencing(stopper), stopper, 1, 0.0, out=io.StringIO(), power=True)
    for device in (Device("m"), Device("quiet")):
        assert run.publish(device, NOW, timedelta(minutes=15))
    (reading,) = run.publisher.published
    assert reading["device_id"] == "m" and "power_w" in reading
    assert "quiet" not in run.summary()["readings_by_device"]


def test_commands_give_each_listed_device_a_link(monkeypatch):
    made = []

    class Link:
        def __init__(self, host, port, stopper, login, device_id, handler):
            self.device_id, self.handler, self.login = device_id, handler, login
            made.append(self)

        def start(self):
            return True

        def close(self):
            pass

    monkeypatch.setattr(cli, "DeviceLink", Link)
    source = account({})
    monkeypatch.setattr(source, "login_of", lambda device_id: f"login-{device_id}")
    args = simulate(
        "--email", "x@example.com", "--commands", "--behaviour", "b=reject"
    )  # fmt: skip
    conf = {"AMQP_URI": "amqp://x", "MQTT_HOST": "127.0.0.1", "MQTT_PORT": 1884}
    fleet = cli.Fleet(1)
    links = cli.make_publisher(args, conf, source, Stopper(), fleet)
    links.ensure([Device("a", "battery", 5.0), Device("b")])
    a, b = made
    assert (a.login, b.login) == ("login-a", "login-b")
    assert (a.handler.behaviour, b.handler.behaviour) == ("obey", "reject")
    assert a.handler.apply("battery_setpoint", {"power_kw": 1}, NOW)
    assert fleet.models["a"].state.power_kw == 1


def test_the_location_comes_from_the_option_or_the_settings():
    args = simulate("--device", "a")
    assert cli.location_of(args, {"LATITUDE": 10, "LONGITUDE": 20}) == (10.0, 20.0)
    assert cli.location_of(args, {}) == cli.DEFAULT_LOCATION
    located = simulate("--device", "a", "--location", "1,2")
    assert cli.location_of(located, {"LATITUDE": 10, "LONGITUDE": 20}) == (1.0, 2.0)


# -- history -----------------------------------------------------------------------


def test_history_is_hourly_and_ends_where_the_device_joined():
    created = datetime(2026, 11, 22, 9, 40, tzinfo=UTC)
    ends = cli.history_ends(created, NOW, timedelta(days=2))
    assert ends[0] == datetime(2026, 11, 20, 11, tzinfo=UTC)
    # The hour the device was created in is left to its live readings.
    assert ends[-1] == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert len(ends) == 47
    assert all(
        b - a == timedelta(hours=1) for a, b in zip(ends, ends[1:], strict=False)
    )
    # A later start goes back as far from its own now, never past the creation.
    later = cli.history_ends(created, NOW + timedelta(days=1), timedelta(days=2))
    assert later == [end for end in ends if end > NOW - timedelta(days=1)]


def test_history_reading_ids_follow_from_the_device_and_the_hour():
    hour = datetime(2026, 11, 22, 9, tzinfo=UTC)
    first = cli.history_reading_id("d1", hour)
    assert first == cli.history_reading_id("d1", hour)
    assert first != cli.history_reading_id("d2", hour)
    assert first != cli.history_reading_id("d1", hour + timedelta(hours=1))
    assert len(first) <= 64


def test_history_sends_the_same_readings_at_every_start(monkeypatch):
    monkeypatch.setattr(cli, "utc_now", lambda: NOW)
    devices = [Device("a"), Device("b", "pv", 3.0), Device("c")]
    created = {
        "a": NOW - timedelta(minutes=30),
        "b": NOW - timedelta(hours=2, minutes=30),
    }
    runs = [make_run(), make_run()]
    for run in runs:
        assert cli.history(run, devices, created, timedelta(hours=6)) == 8
    first, second = (run.publisher.published for run in runs)
    # c's creation is unknown: no history. a has 5 hours up to 9:00, b 3 up to 7:00.
    assert [r["device_id"] for r in first].count("a") == 5
    assert [r["device_id"] for r in first].count("b") == 3
    assert "c" not in {r["device_id"] for r in first}
    assert [r["timestamp"] for r in first][:2] == ["2026-11-22T05:00:00Z"] * 2
    assert [r["reading_id"] for r in first] == [r["reading_id"] for r in second]
    assert all(
        r["reading_id"]
        == cli.history_reading_id(r["device_id"], parse_start(r["timestamp"]))
        for r in first
    )
    # Each covers its hour, modelled apart from the run's live models.
    assert runs[0].fleet.models == {}
    assert all("export_kwh" in r for r in first if r["device_id"] == "b")


def test_history_needs_an_account_and_a_live_run():
    assert "--email or --demo" in check_arguments(
        simulate("--device", "d1", "--history", "60d"), NOW
    )
    args = simulate("--email", "a@x.io", "--password", "pw", "--history", "1d")
    assert check_arguments(args, NOW) is None
    args = simulate(
        "--email",
        "a@x.io",
        "--password",
        "pw",
        "--history",
        "1d",
        "--start",
        "2026-11-21",
    )
    assert "leave out --start" in check_arguments(args, NOW)


def test_the_listing_keeps_when_each_device_was_created():
    listed = {**DEVICE, "created_at": "2026-11-22T09:40:12Z"}
    directory = account(
        {
            "POST /api/auth/login": [Response(200, TOKEN)],
            "GET /api/devices": [Response(200, [listed, {"id": "d2"}])],
        }
    )
    directory.wait()
    assert directory.created == {"d1": datetime(2026, 11, 22, 9, 40, 12, tzinfo=UTC)}


class GrowingDevices:
    """A listing that gains a device at its first refresh."""

    def __init__(self, first, later):
        self.listings = [first, later]

    def wait(self):
        return self.listings[0]

    def refresh(self):
        return self.listings[-1]


def test_a_live_run_sends_each_devices_history_once_before_its_live_readings():
    now = datetime.now(UTC)
    run = make_run(count=20)
    created = {"a": now - timedelta(minutes=30), "b": now - timedelta(minutes=30)}
    a, b = Device("a"), Device("b")
    source = GrowingDevices([a], [a, b])
    live(run, source, 200, 0.01, cli.Histories(run, created, timedelta(hours=3)))
    published = run.publisher.published
    kinds = [
        (
            r["device_id"],
            r["reading_id"]
            == cli.history_reading_id(r["device_id"], parse_start(r["timestamp"])),
        )
        for r in published
    ]
    for device in "ab":
        mine = [is_history for d, is_history in kinds if d == device]
        # Its history (2 or 3 hours) first, then live readings only.
        assert 2 <= mine.index(False) <= 3 and not any(mine[mine.index(False) :])
    # b, listed later, still got its history, once.
    first_of_b = next(i for i, (d, _) in enumerate(kinds) if d == "b")
    assert kinds[first_of_b - 1] == ("a", False)
    history_ids = [
        r["reading_id"]
        for r, (_, is_history) in zip(published, kinds, strict=True)
        if is_history
    ]
    assert len(set(history_ids)) == len(history_ids) >= 4


@pytest.mark.parametrize(
    "environ, argv, history",
    [
        ({}, [], timedelta(days=60)),
        ({"EMS_DEMO_HISTORY_DAYS": "2"}, [], timedelta(days=2)),
        ({"EMS_DEMO_HISTORY_DAYS": "0"}, [], None),
        ({"EMS_DEMO_HISTORY_DAYS": "2"}, ["--history", "6h"], timedelta(hours=6)),
        ({}, ["--start", "2026-11-21"], None),
    ],
)
def test_the_demo_has_the_history_the_settings_give(
    monkeypatch, environ, argv, history
):
    environ = {"EMS_DEMO_PASSWORD": "demo-secret", **environ}
    settings = cli.config.settings
    monkeypatch.setattr(
        cli.config, "settings", lambda process: settings(process, environ)
    )
    args = simulate("--demo", *argv)
    assert cli.use_demo_login(args)
    assert (args.email, args.password) == ("demo@ems.localhost", "demo-secret")
    assert args.history == history
