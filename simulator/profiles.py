"""Household load profiles: the energy a device uses in an interval.

Pure and deterministic: one seed, device, interval end and length always give the same
reading. A device's power follows a daily shape for its kind, as a fraction of its
``max_hourly_kwh`` (so a device at fraction 1.0 for an hour uses exactly its limit);
the energy of an interval is that power integrated over it, times multiplicative
noise, and now and then a spike above the limit. Hours are UTC hours: the simulated
households live on UTC time.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import numpy as np

DAY = 86_400.0
HOUR = 3_600.0

DEFAULT_KIND = "meter"
#: The platform's default limit (``APP_OVER_LIMIT_KWH``).
DEFAULT_MAX_HOURLY_KWH = 0.5
#: Sigma of the log-normal noise (its mean is 1, so totals stay unbiased).
NOISE_SIGMA = 0.15
#: A spike uses this many times the device's max_hourly_kwh in one reading.
SPIKE_RANGE = (1.1, 1.6)
#: Power is sampled once a minute; a sample sits at the middle of its minute so that
#: an hour's energy is exactly the sum of its four quarter-hours.
SAMPLE_SECONDS = 60.0

# Mean power in each UTC hour of the day (0..23), as a fraction of max_hourly_kwh.
# Values hold at half past the hour and are interpolated in between.
HOUSEHOLD = (0.12, 0.10, 0.09, 0.09, 0.09, 0.12, 0.25, 0.42, 0.40, 0.28, 0.22, 0.24) + (
    0.28,
    0.24,
    0.20,
    0.20,
    0.26,
    0.40,
    0.58,
    0.65,
    0.58,
    0.45,
    0.30,
    0.18,
)
APPLIANCE = (0.02, 0.02, 0.02, 0.02, 0.02, 0.03, 0.10, 0.30, 0.25, 0.12, 0.10, 0.20) + (
    0.35,
    0.20,
    0.10,
    0.10,
    0.15,
    0.35,
    0.60,
    0.55,
    0.35,
    0.20,
    0.08,
    0.04,
)
# Highest in the cold night and morning, lowest in the warm afternoon.
HEAT_PUMP = (0.55, 0.58, 0.60, 0.62, 0.65, 0.68, 0.70, 0.62, 0.48, 0.38, 0.30, 0.25) + (
    0.22,
    0.20,
    0.22,
    0.26,
    0.32,
    0.40,
    0.45,
    0.46,
    0.46,
    0.48,
    0.50,
    0.52,
)
# Readings are consumption, never production: a PV inverter only draws standby
# power at night, and nothing while the sun feeds it.
PV = (0.01,) * 6 + (0.0,) * 14 + (0.01,) * 4
# A battery's own draw: management electronics and conversion losses.
BATTERY = (0.02,) * 24
SHAPES = {
    "meter": HOUSEHOLD,
    "appliance": APPLIANCE,
    "heat_pump": HEAT_PUMP,
    "pv": PV,
    "battery": BATTERY,
}

#: Heat pumps work harder in winter: the shape times 0.8 ± 0.35, highest mid-January.
HEAT_PUMP_SEASON = (0.8, 0.35)

# An EV charger charges at most one block a day, starting in the evening and often
# running past midnight, and idles otherwise.
EV_CHARGE_PROBABILITY = 0.7
EV_START_HOURS = (17.0, 23.0)
EV_DURATION_HOURS = (1.5, 5.0)
EV_CHARGING = 0.85
EV_STANDBY = 0.005


@dataclass(frozen=True)
class Device:
    """What the simulator knows of a device."""

    id: str
    kind: str = DEFAULT_KIND
    max_hourly_kwh: float = DEFAULT_MAX_HOURLY_KWH

    def __post_init__(self):
        limit = self.max_hourly_kwh
        if not (isinstance(limit, int | float) and math.isfinite(limit) and limit > 0):
            raise ValueError(f"max_hourly_kwh must be a positive number, not {limit!r}")


class Draw(NamedTuple):
    """One reading's energy, and whether it is a spike."""

    kwh: float
    spike: bool


def rng(seed: int, *parts) -> np.random.Generator:
    """A generator determined by ``seed`` and ``parts`` alone.

    Python's ``hash`` differs between processes, so the parts go through SHA-256.
    """
    key = "\x1f".join(str(part) for part in (seed, *parts)).encode()
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:16]))


def shape_fraction(shape, moments: np.ndarray) -> np.ndarray:
    """The hourly ``shape`` at ``moments`` (epoch seconds), interpolated."""
    hours = (moments % DAY) / HOUR
    # Points at -0.5 and 24.5 wrap the curve around midnight.
    points = np.arange(-0.5, 25.0, 1.0)
    values = np.concatenate(([shape[-1]], shape, [shape[0]]))
    return np.interp(hours, points, values)


def heat_pump_season(moments: np.ndarray) -> np.ndarray:
    """The heat pump's seasonal factor; day 0 of the epoch is 1 January."""
    mean, swing = HEAT_PUMP_SEASON
    day_of_year = (moments / DAY) % 365.2425
    return mean + swing * np.cos(2 * np.pi * (day_of_year - 15) / 365.2425)


def ev_session(seed: int, device_id: str, day: int) -> tuple[float, float] | None:
    """The charging block (epoch seconds) that starts on ``day``, if any."""
    draws = rng(seed, device_id, "ev", day)
    charges = draws.random() < EV_CHARGE_PROBABILITY
    start = day * DAY + draws.uniform(*EV_START_HOURS) * HOUR
    length = draws.uniform(*EV_DURATION_HOURS) * HOUR
    return (start, start + length) if charges else None


def ev_plugged(seed: int, device_id: str, moments: np.ndarray) -> np.ndarray:
    """Whether a car charges at ``moments``: inside one of the charger's blocks."""
    plugged = np.zeros(moments.shape, dtype=bool)
    days = {int(day) for day in np.unique(moments // DAY)}
    # Yesterday's block may still be running after midnight.
    for day in days | {day - 1 for day in days}:
        session = ev_session(seed, device_id, day)
        if session:
            start, end = session
            plugged |= (moments >= start) & (moments < end)
    return plugged


def ev_fraction(seed: int, device_id: str, moments: np.ndarray) -> np.ndarray:
    return np.where(ev_plugged(seed, device_id, moments), EV_CHARGING, EV_STANDBY)


def power_fraction(device: Device, moments: np.ndarray, seed: int) -> np.ndarray:
    """The device's mean power at ``moments``, as a fraction of its limit.

    A kind without a profile of its own is simulated as a household meter.
    """
    if device.kind == "ev_charger":
        return ev_fraction(seed, device.id, moments)
    fraction = shape_fraction(SHAPES.get(device.kind, HOUSEHOLD), moments)
    if device.kind == "heat_pump":
        fraction = fraction * heat_pump_season(moments)
    return fraction


def epoch_seconds(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("interval ends must be timezone-aware (UTC)")
    return moment.timestamp()


def expected_kwh(
    device: Device, end: datetime, interval: timedelta, seed: int = 0
) -> float:
    """The energy of the interval of length ``interval`` ending at ``end``, without
    noise or spikes."""
    seconds = interval.total_seconds()
    if seconds <= 0:
        return 0.0
    moments = sample_moments(epoch_seconds(end), seconds)
    mean = power_fraction(device, moments, seed).mean()
    return float(device.max_hourly_kwh * mean * seconds / HOUR)


def sample_moments(end: float, seconds: float) -> np.ndarray:
    """Where power is sampled in the ``seconds`` before ``end`` (epoch seconds):
    the middles of equal steps of about ``SAMPLE_SECONDS``."""
    samples = max(1, math.ceil(seconds / SAMPLE_SECONDS))
    step = seconds / samples
    return end - seconds + (np.arange(samples) + 0.5) * step


def interval_kwh(
    device: Device,
    end: datetime,
    interval: timedelta,
    seed: int,
    spike_probability: float = 0.0,
) -> Draw:
    """The reading of ``device`` for the interval ending at ``end``: finite, >= 0.

    With probability ``spike_probability`` the reading is a spike of 1.1 to 1.6 times
    the device's max_hourly_kwh, whatever the interval's length, so the platform
    sees single readings above the limit as well as busy hours.
    """
    if not 0.0 <= spike_probability <= 1.0:
        raise ValueError("spike_probability must be between 0 and 1")
    draws = rng(
        seed, device.id, "reading", epoch_seconds(end), interval.total_seconds()
    )
    # Every number is drawn whatever the probability, so that changing it moves the
    # spikes but leaves every other reading as it was.
    noise = draws.lognormal(-(NOISE_SIGMA**2) / 2, NOISE_SIGMA)
    spiking = draws.random() < spike_probability
    spike = device.max_hourly_kwh * draws.uniform(*SPIKE_RANGE)
    kwh = expected_kwh(device, end, interval, seed) * noise
    if spiking:
        return Draw(max(kwh, spike), True)
    return Draw(kwh, False)
