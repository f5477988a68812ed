"""The weather provider's client, against a local server replaying an answer in the
shape of Open-Meteo's forecast API (``harness/fixtures/open_meteo_cloud_cover.json``,
written after its documented response)."""

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from harness.fakes import OPEN_METEO_ANSWER, WeatherServer
from harness.ports import free_port
from services.monitoring.weather import (
    OpenMeteo,
    WeatherUnavailable,
    parse_cloud_cover,
)

RECORDED = json.loads(OPEN_METEO_ANSWER.read_text())
#: The first hour of the recording.
START = datetime(2026, 12, 2, tzinfo=UTC)


def hours(start: datetime, count: int) -> list[datetime]:
    return [start + timedelta(hours=i) for i in range(count)]


def test_the_cloud_cover_of_the_hours_asked_for_as_fractions():
    with WeatherServer() as server:
        cover = OpenMeteo(server.url).cloud_cover(51.48, 0.0, START, 48)
    recorded = np.array(RECORDED["hourly"]["cloud_cover"]) / 100
    np.testing.assert_allclose(cover, recorded)
    [query] = server.requests
    assert query == {
        "latitude": "51.4800",
        "longitude": "0.0000",
        "hourly": "cloud_cover",
        "timezone": "UTC",
        "start_hour": "2026-12-02T00:00",
        "end_hour": "2026-12-03T23:00",
    }


def test_a_forecast_from_the_middle_of_the_recording_reads_its_own_hours():
    cover = parse_cloud_cover(RECORDED, hours(START + timedelta(hours=30), 5))
    assert cover.tolist() == [
        value / 100 for value in RECORDED["hourly"]["cloud_cover"][30:35]
    ]


def test_a_provider_that_does_not_answer_in_time_is_unavailable():
    with WeatherServer(hang=True) as server:
        client = OpenMeteo(server.url, timeout_s=0.2)
        with pytest.raises(WeatherUnavailable, match="no answer within 0.2 s"):
            client.cloud_cover(51.48, 0.0, START, 24)


def test_a_provider_that_fails_is_unavailable():
    with WeatherServer(status=503) as server:
        with pytest.raises(WeatherUnavailable, match="answered 503"):
            OpenMeteo(server.url).cloud_cover(51.48, 0.0, START, 24)
    closed = f"http://127.0.0.1:{free_port()}/v1/forecast"
    with pytest.raises(WeatherUnavailable, match="cannot be reached"):
        OpenMeteo(closed, timeout_s=2).cloud_cover(51.48, 0.0, START, 24)


@pytest.mark.parametrize(
    "hourly, why",
    [
        (None, "no hourly cloud_cover"),
        ({"time": ["2026-12-02T00:00"]}, "no hourly cloud_cover"),
        ({"time": "2026-12-02T00:00", "cloud_cover": 5}, "not lists"),
        ({"time": ["2026-12-02T00:00"], "cloud_cover": [5]}, "no cloud cover for"),
        (
            {
                "time": ["2026-12-02T00:00", "2026-12-02T01:00"],
                "cloud_cover": [5, None],
            },
            "no cloud cover for 2026-12-02T01:00",
        ),
        (
            {"time": ["2026-12-02T00:00", "2026-12-02T01:00"], "cloud_cover": [5, 140]},
            "a cloud cover of 140 %",
        ),
    ],
)
def test_an_answer_without_every_hour_as_a_percentage_is_refused(hourly, why):
    with pytest.raises(ValueError, match=why):
        parse_cloud_cover({"hourly": hourly}, hours(START, 2))
