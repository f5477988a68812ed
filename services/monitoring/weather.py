"""The weather a generation forecast may use: the cloud cover of the hours ahead at
a place, from a provider over HTTP. Optional: without ``FORECAST.weather_url`` there
is none, and a provider that fails or is slow leaves the forecast without weather
(``services/monitoring/generation.py``), which says so.

A provider is anything with ``cloud_cover(latitude, longitude, start, hours)``
answering a fraction (0 to 1) per UTC hour, or raising ``WeatherUnavailable``.
``OpenMeteo`` asks Open-Meteo's forecast API (https://open-meteo.com/en/docs), or
any server that answers as it does.
"""

from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np
import requests
from nameko.extensions import DependencyProvider

#: Seconds a provider has to answer when ``FORECAST.weather_timeout_s`` is not set.
DEFAULT_TIMEOUT_S = 5.0
HOUR = timedelta(hours=1)
#: How Open-Meteo writes an hour (``timezone=UTC``): no seconds, no offset.
OPEN_METEO_HOUR = "%Y-%m-%dT%H:%M"


class WeatherUnavailable(Exception):
    """The provider could not say; its message is why."""


class WeatherProvider(Protocol):
    #: What the forecast names as its source.
    name: str

    def cloud_cover(
        self, latitude: float, longitude: float, start: datetime, hours: int
    ) -> np.ndarray: ...


class OpenMeteo:
    """Open-Meteo's hourly ``cloud_cover`` (percent) at a place, as fractions."""

    name = "open-meteo"

    def __init__(self, url: str, timeout_s: float = DEFAULT_TIMEOUT_S, session=None):
        self.url = url
        self.timeout_s = timeout_s
        self.session = session or requests.Session()

    def cloud_cover(
        self, latitude: float, longitude: float, start: datetime, hours: int
    ) -> np.ndarray:
        start = start.astimezone(UTC)
        wanted = [start + i * HOUR for i in range(hours)]
        params = {
            "latitude": f"{latitude:.4f}",
            "longitude": f"{longitude:.4f}",
            "hourly": "cloud_cover",
            "timezone": "UTC",
            "start_hour": wanted[0].strftime(OPEN_METEO_HOUR),
            "end_hour": wanted[-1].strftime(OPEN_METEO_HOUR),
        }
        try:
            response = self.session.get(self.url, params=params, timeout=self.timeout_s)
        except requests.Timeout as exc:
            raise WeatherUnavailable(f"no answer within {self.timeout_s:g} s") from exc
        except requests.RequestException as exc:
            raise WeatherUnavailable(f"cannot be reached: {exc}") from exc
        if response.status_code != 200:
            raise WeatherUnavailable(
                f"answered {response.status_code}: {response.text[:200]}"
            )
        try:
            return parse_cloud_cover(response.json(), wanted)
        except ValueError as exc:
            raise WeatherUnavailable(f"answered what it cannot mean: {exc}") from exc


def parse_cloud_cover(body, wanted: list[datetime]) -> np.ndarray:
    """The cloud cover of each hour of ``wanted`` from an Open-Meteo answer, as
    fractions; ``ValueError`` if any hour is missing or not a percentage."""
    try:
        hourly = body["hourly"]
        times, covers = hourly["time"], hourly["cloud_cover"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"no hourly cloud_cover ({exc})") from None
    if not isinstance(times, list) or not isinstance(covers, list):
        raise ValueError("hourly time and cloud_cover are not lists")
    by_hour = dict(zip(times, covers, strict=False))
    values = []
    for hour in wanted:
        cover = by_hour.get(hour.strftime(OPEN_METEO_HOUR))
        if isinstance(cover, bool) or not isinstance(cover, int | float):
            raise ValueError(f"no cloud cover for {hour.isoformat()}")
        if not 0 <= cover <= 100:
            raise ValueError(f"a cloud cover of {cover} %")
        values.append(cover / 100.0)
    return np.array(values)


class Weather(DependencyProvider):
    """The configured weather provider for the service's workers, or None."""

    def setup(self):
        settings = self.container.config.get("FORECAST") or {}
        url = settings.get("weather_url")
        self.provider = None
        if url:
            self.provider = OpenMeteo(
                url, float(settings.get("weather_timeout_s") or DEFAULT_TIMEOUT_S)
            )

    def get_dependency(self, worker_ctx):
        return self.provider
