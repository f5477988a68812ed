"""monitoring's generation forecast, its backtest and a household's net load, on
the real broker and monitoringdb, with a local weather API when one is
configured."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy.orm import Session

from harness.fakes import WeatherServer
from services.common.errors import ValidationFailed
from services.monitoring import generation
from services.monitoring.logic import Energy
from services.monitoring.service import MonitoringService
from services.monitoring.storage import MonitoringStore

pytestmark = pytest.mark.usefixtures("clean_databases")

HOUR = timedelta(hours=1)
NOW = datetime(2026, 6, 22, 10, 37, 12, tzinfo=UTC)
CURRENT_HOUR = datetime(2026, 6, 22, 10, tzinfo=UTC)
OWNER = "6f1c9d2e-0000-4000-8000-0000000000aa"
CAPE_TOWN = (-33.9, 18.4)
#: The installation's place in the test settings (EMS_LATITUDE's default).
GREENWICH = (51.48, 0.0)


@pytest.fixture
def start_monitoring(container_factory, service_config):
    proxies = []

    def start(**forecast):
        config = service_config("monitoring")
        config["FORECAST"] = {**config["FORECAST"], **forecast}
        container_factory(MonitoringService, config).start()
        proxy = ServiceRpcProxy("monitoring", config)
        proxies.append(proxy)
        return proxy.start()

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def monitoring(start_monitoring):
    return start_monitoring()


@pytest.fixture
def add_device(engines):
    """A device in monitoring's copy, as ems.sync would have brought it."""

    def add(kind: str, place=(None, None), max_hourly_kwh=4.0) -> str:
        device_id = str(uuid.uuid4())
        with Session(engines["monitoringdb"]) as session:
            store = MonitoringStore(session)
            store.put_device(
                device_id,
                OWNER,
                max_hourly_kwh,
                NOW - timedelta(days=60),
                60,
                kind,
                *place,
            )
            store.commit()
        return device_id

    return add


@pytest.fixture
def store_totals(engines):
    """Adds hourly totals the way the ingest workers do: drawn and exported."""

    def add(device_id: str, first_hour: datetime, drawn=None, exported=None) -> None:
        count = len(drawn if drawn is not None else exported)
        drawn = np.zeros(count) if drawn is None else drawn
        exported = np.zeros(count) if exported is None else exported
        with Session(engines["monitoringdb"]) as session:
            store = MonitoringStore(session)
            store.add_to_totals(
                {
                    (device_id, first_hour + i * HOUR): Energy(
                        Decimal(f"{drawn[i]:.6f}"), Decimal(f"{exported[i]:.6f}")
                    )
                    for i in range(count)
                }
            )
            store.commit()

    return add


def clear(place, start: datetime, hours: int) -> np.ndarray:
    return generation.clear_sky_kwh(*place, start, hours)


def kwh(result) -> np.ndarray:
    return np.array([hour["kwh"] for hour in result["hours"]])


def test_a_pv_device_s_export_scales_the_clear_sky_at_its_place(
    monitoring, add_device, store_totals
):
    pv = add_device("pv", CAPE_TOWN)
    first = CURRENT_HOUR - 10 * 24 * HOUR
    store_totals(pv, first, exported=clear(CAPE_TOWN, first, 240) * 3.0)
    result = monitoring.forecast_generation(pv, 30, now_iso=NOW.isoformat())
    assert result["method"] == "clear_sky_scaled" and result["fallback"] is False
    assert result["history_hours"] == 240
    assert result["scale"] == pytest.approx(3.0, rel=1e-3)
    assert result["location"] == {
        "latitude": -33.9,
        "longitude": 18.4,
        "source": "device",
    }
    assert result["weather"] == {"provider": None, "status": "off", "detail": None}
    assert result["hours"][0]["hour"] == "2026-06-22T10:00:00Z"
    np.testing.assert_allclose(
        kwh(result), clear(CAPE_TOWN, CURRENT_HOUR, 30) * 3.0, atol=2e-5
    )


def test_without_history_or_place_the_installation_s_nominal_clear_sky(
    monitoring, add_device
):
    pv = add_device("pv", max_hourly_kwh=2.5)
    result = monitoring.forecast_generation(pv, 24, now_iso=NOW.isoformat())
    assert result["method"] == "clear_sky_nominal" and result["fallback"] is True
    assert result["scale"] is None and "fallback" in result["note"]
    assert result["location"]["source"] == "installation"
    assert (result["location"]["latitude"], result["location"]["longitude"]) == (
        GREENWICH
    )
    np.testing.assert_allclose(
        kwh(result), clear(GREENWICH, CURRENT_HOUR, 24) * 2.5, atol=2e-6
    )


def test_only_pv_devices_have_generation_forecasts(monitoring, add_device):
    meter = add_device("meter")
    with pytest.raises(ValidationFailed, match="PV devices only"):
        monitoring.forecast_generation(meter, 24, now_iso=NOW.isoformat())
    with pytest.raises(ValidationFailed, match="PV devices only"):
        monitoring.backtest_generation(meter, 24, now_iso=NOW.isoformat())


def test_the_weather_s_cloud_cover_scales_the_sunniest_days(
    start_monitoring, add_device, store_totals
):
    with WeatherServer() as server:
        monitoring = start_monitoring(weather_url=server.url)
        pv = add_device("pv", CAPE_TOWN)
        first = CURRENT_HOUR - 14 * 24 * HOUR
        days = np.repeat(np.linspace(0.4, 1.0, 14), 24)
        store_totals(pv, first, exported=clear(CAPE_TOWN, first, 14 * 24) * 4 * days)
        result = monitoring.forecast_generation(pv, 24, now_iso=NOW.isoformat())
    assert result["method"] == "clear_sky_weather" and result["fallback"] is False
    assert result["weather"] == {
        "provider": "open-meteo",
        "status": "used",
        "detail": None,
    }
    [query] = server.requests
    assert (query["latitude"], query["start_hour"]) == ("-33.9000", "2026-06-22T10:00")
    cover = np.array(server.answer(query)["hourly"]["cloud_cover"]) / 100
    expected = (
        clear(CAPE_TOWN, CURRENT_HOUR, 24)
        * result["scale"]
        * generation.cloud_factor(cover)
    )
    np.testing.assert_allclose(kwh(result), expected, atol=2e-5)


def test_a_weather_provider_that_times_out_leaves_the_clear_sky_and_says_so(
    start_monitoring, add_device, store_totals
):
    with WeatherServer(hang=True) as server:
        monitoring = start_monitoring(weather_url=server.url, weather_timeout_s=0.5)
        pv = add_device("pv", CAPE_TOWN)
        first = CURRENT_HOUR - 14 * 24 * HOUR
        store_totals(pv, first, exported=clear(CAPE_TOWN, first, 14 * 24) * 2.0)
        result = monitoring.forecast_generation(pv, 24, now_iso=NOW.isoformat())
    assert result["method"] == "clear_sky_scaled" and result["fallback"] is True
    assert result["weather"]["status"] == "unavailable"
    assert "no answer within 0.5 s" in result["weather"]["detail"]
    np.testing.assert_allclose(
        kwh(result), clear(CAPE_TOWN, CURRENT_HOUR, 24) * 2.0, atol=2e-5
    )


def test_the_backtest_compares_with_yesterday(monitoring, add_device, store_totals):
    pv = add_device("pv", CAPE_TOWN)
    first = CURRENT_HOUR - 21 * 24 * HOUR
    weather = np.random.default_rng(3).uniform(0.2, 1.0, 21)
    exported = clear(CAPE_TOWN, first, 21 * 24) * 4 * np.repeat(weather, 24)
    store_totals(pv, first, exported=exported)
    result = monitoring.backtest_generation(pv, 24, now_iso=NOW.isoformat())
    assert result["seasonal_period_hours"] == 24
    assert result["folds"] == 14 and result["hours_evaluated"] == 14 * 24
    assert result["model"]["method"] == "clear_sky_scaled"
    assert result["seasonal_naive"]["method"] == "same hour 24 h earlier"
    assert 0 < result["model"]["mae"] < result["seasonal_naive"]["mae"]
    assert result["hours_excluded_from_mape"] > 0  # the nights


def test_a_household_s_net_load_is_its_use_less_its_generation(
    monitoring, add_device, store_totals
):
    meter, pv, battery = add_device("meter"), add_device("pv"), add_device("battery")
    first = CURRENT_HOUR - 3 * 24 * HOUR
    store_totals(meter, first, drawn=np.full(72, 0.5))
    store_totals(battery, first, drawn=np.full(72, 3.0))
    store_totals(pv, first, exported=clear(GREENWICH, first, 72) * 2.0)
    result = monitoring.forecast_net_load(
        [meter, pv, battery], 24, now_iso=NOW.isoformat()
    )
    assert result["device_ids"] == [meter, pv]
    assert result["pv_device_ids"] == [pv]
    # Three days of history: every forecast is its model's.
    assert result["fallbacks"] == []
    hours = result["hours"]
    assert [hour["consumption_kwh"] for hour in hours] == [0.5] * 24
    generated = clear(GREENWICH, CURRENT_HOUR, 24) * 2.0
    np.testing.assert_allclose(
        [hour["generation_kwh"] for hour in hours], generated, atol=2e-5
    )
    np.testing.assert_allclose(
        [hour["net_kwh"] for hour in hours], 0.5 - generated, atol=2e-5
    )
    assert min(hour["net_kwh"] for hour in hours) < 0  # a sunny noon's surplus
