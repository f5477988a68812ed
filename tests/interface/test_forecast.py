"""monitoring's forecast and backtest RPCs, on the real broker and monitoringdb."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy.orm import Session

from services.common.errors import ValidationFailed
from services.monitoring.logic import Energy
from services.monitoring.service import MonitoringService
from services.monitoring.storage import MonitoringStore

pytestmark = pytest.mark.usefixtures("clean_databases")

HOUR = timedelta(hours=1)
NOW = datetime(2026, 11, 22, 10, 37, 12, tzinfo=UTC)
CURRENT_HOUR = datetime(2026, 11, 22, 10, tzinfo=UTC)


@pytest.fixture
def monitoring(container_factory, service_config):
    config = service_config("monitoring")
    container_factory(MonitoringService, config).start()
    with ServiceRpcProxy("monitoring", config) as proxy:
        yield proxy


@pytest.fixture
def store_totals(engines):
    """Adds hourly totals the way the ingest workers do, and commits them."""

    def add(device_id: str, first_hour: datetime, values) -> None:
        with Session(engines["monitoringdb"]) as session:
            store = MonitoringStore(session)
            store.add_to_totals(
                {
                    (device_id, first_hour + i * HOUR): Energy(Decimal(f"{kwh:.6f}"))
                    for i, kwh in enumerate(values)
                }
            )
            store.commit()

    return add


def shape(hours: int, first_hour: datetime, noise: float = 0.0) -> list[float]:
    """Hour h of the UTC day uses (h + 1) / 100 kWh, times some noise."""
    rng = np.random.default_rng(5)
    hour_of_day = (first_hour.hour + np.arange(hours)) % 24
    factor = rng.lognormal(0, noise, hours) if noise else np.ones(hours)
    return ((hour_of_day + 1) / 100 * factor).tolist()


def device_id() -> str:
    return str(uuid.uuid4())


def test_a_forecast_learns_the_daily_shape_from_the_current_hour_on(
    monitoring, store_totals
):
    device = device_id()
    first = CURRENT_HOUR - 10 * 24 * HOUR
    store_totals(device, first, shape(10 * 24, first))
    store_totals(device, CURRENT_HOUR, [5.0])  # the current hour, still incomplete
    result = monitoring.forecast_consumption(device, 30, now_iso=NOW.isoformat())
    assert result["device_id"] == device and result["unit"] == "kWh"
    assert result["method"] == "profile" and result["fallback"] is False
    assert result["history_hours"] == 240
    assert result["generated_at"] == "2026-11-22T10:37:12Z"
    assert len(result["hours"]) == 30
    assert result["hours"][0] == {"hour": "2026-11-22T10:00:00Z", "kwh": 0.11}
    assert result["hours"][13] == {"hour": "2026-11-22T23:00:00Z", "kwh": 0.24}
    assert result["hours"][-1] == {"hour": "2026-11-23T15:00:00Z", "kwh": 0.16}


def test_a_device_without_history_gets_zeros_and_is_told_so(monitoring):
    result = monitoring.forecast_consumption(device_id(), now_iso=NOW.isoformat())
    assert result["method"] == "no_history" and result["fallback"] is True
    assert result["history_hours"] == 0 and "no history" in result["note"]
    assert [h["kwh"] for h in result["hours"]] == [0.0] * 24


def test_a_day_and_a_half_of_history_repeats_the_last_day(monitoring, store_totals):
    device = device_id()
    first = CURRENT_HOUR - 36 * HOUR
    store_totals(device, first, shape(36, first))
    result = monitoring.forecast_consumption(device, 48, now_iso=NOW.isoformat())
    assert result["method"] == "last_day" and result["fallback"] is True
    assert result["history_hours"] == 36
    assert result["hours"][0]["kwh"] == 0.11 and result["hours"][24]["kwh"] == 0.11


@pytest.mark.parametrize("hours", [0, 49, "many"])
def test_the_horizon_is_one_to_48_hours(monitoring, hours):
    with pytest.raises(ValidationFailed):
        monitoring.forecast_consumption(device_id(), hours)
    with pytest.raises(ValidationFailed):
        monitoring.backtest_consumption(device_id(), hours)


def test_a_bad_now_is_refused(monitoring):
    for now in ("yesterday", "2026-11-22T10:00:00"):
        with pytest.raises(ValidationFailed):
            monitoring.forecast_consumption(device_id(), 24, now_iso=now)


def test_the_backtest_reports_both_errors_on_the_same_hours(monitoring, store_totals):
    device = device_id()
    first = CURRENT_HOUR - 21 * 24 * HOUR
    store_totals(device, first, shape(21 * 24, first, noise=0.2))
    result = monitoring.backtest_consumption(device, 24, now_iso=NOW.isoformat())
    assert result["history_hours"] == 21 * 24
    assert result["seasonal_period_hours"] == 168
    assert result["folds"] == 14 and result["hours_evaluated"] == 14 * 24
    assert result["hours_excluded_from_mape"] == 0
    model, naive = result["model"], result["seasonal_naive"]
    assert model["method"] == "profile"
    assert naive["method"] == "same hour 168 h earlier"
    assert 0 < model["mae"] < naive["mae"]
    assert 0 < model["mape"] < naive["mape"]
    assert result["skill"] == pytest.approx(1 - model["mae"] / naive["mae"], abs=1e-3)


def test_a_backtest_without_enough_history_says_so(monitoring, store_totals):
    device = device_id()
    first = CURRENT_HOUR - 50 * HOUR
    store_totals(device, first, shape(50, first))
    result = monitoring.backtest_consumption(device, 24, now_iso=NOW.isoformat())
    assert result["folds"] == 0 and result["hours_evaluated"] == 0
    assert result["model"]["mae"] is None and result["seasonal_naive"]["mae"] is None
    assert result["skill"] is None
    assert result["note"] == "not enough history: 50 h, a backtest needs 72 h"
