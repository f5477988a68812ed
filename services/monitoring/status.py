"""monitoring's rules of device status: how long a device may stay silent and still
be online, what a batch of readings tells of each device, and what a presence
message says.

A device is online while it is heard from: a reading stamped within the last
``OfflineRule.silence`` of its reading interval, or ``{"online": true}`` on its
presence topic. It goes offline when it stays silent longer (the status check) or
its MQTT connection drops (its will, ``{"online": false}``), and comes back with a
reading stamped after it went offline, or with ``{"online": true}``.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.schemas import is_id
from services.common.topology import STATUS, device_of_key
from services.monitoring.exceptions import InvalidPresence

#: Intervals a device may miss before it is offline, and the time added to them
#: for a reading's way through the platform, when the settings name none.
OFFLINE_AFTER_INTERVALS = 3
OFFLINE_GRACE = timedelta(seconds=30)
#: The reading interval of a device the devices service told nothing of (an event
#: published before devices kept one): the devices service's default.
DEFAULT_READING_INTERVAL_S = 60


@dataclass(frozen=True)
class OfflineRule:
    """How long a device may stay silent and still be online: ``intervals`` of its
    reading interval, and ``grace``."""

    intervals: int = OFFLINE_AFTER_INTERVALS
    grace: timedelta = OFFLINE_GRACE

    @classmethod
    def from_settings(cls, config) -> "OfflineRule":
        """The rule a process's settings give (``OFFLINE_AFTER_INTERVALS``,
        ``OFFLINE_GRACE_SECONDS``), the defaults for those they leave out."""
        intervals = int(config.get("OFFLINE_AFTER_INTERVALS", OFFLINE_AFTER_INTERVALS))
        grace = float(
            config.get("OFFLINE_GRACE_SECONDS", OFFLINE_GRACE.total_seconds())
        )
        return cls(intervals, timedelta(seconds=grace))

    def silence(self, reading_interval_s: int) -> timedelta:
        return self.intervals * timedelta(seconds=reading_interval_s) + self.grace


@dataclass(frozen=True)
class Sighting:
    """What one batch of readings tells of a device."""

    device_id: str
    #: The device's owner and reading interval.
    user_id: str
    reading_interval_s: int
    #: Its newest reading's timestamp, never later than the batch was counted (a
    #: reading may be stamped a few minutes ahead).
    seen_at: datetime
    #: Whether ``seen_at`` is recent enough for the device to be online.
    fresh: bool
    #: Its newest power and state of charge, with the timestamps of their readings.
    power_w: float | None = None
    power_at: datetime | None = None
    soc_kwh: float | None = None
    soc_at: datetime | None = None


@dataclass(frozen=True)
class DeviceStatus:
    """A device's status as it is answered and pushed (``DeviceStatusSchema``),
    with its owner, to whom it is pushed."""

    device_id: str
    user_id: str
    reading_interval_s: int
    online: bool = False
    since: datetime | None = None
    last_seen: datetime | None = None
    power_w: float | None = None
    power_at: datetime | None = None
    soc_kwh: float | None = None
    soc_at: datetime | None = None

    @property
    def reason(self) -> str:
        """The notification of a change to this status."""
        return "online" if self.online else "offline"


def sightings(readings, devices: dict, now: datetime, rule: OfflineRule):
    """One ``Sighting`` per device of ``readings`` (``ParsedReading``s of known
    devices, ``devices`` their ``DeviceLimit``s), in device id order: the order in
    which every batch locks their rows."""
    newest: dict[str, datetime] = {}
    power: dict[str, tuple[datetime, float]] = {}
    soc: dict[str, tuple[datetime, float]] = {}
    for reading in readings:
        device_id, stamp = reading.device_id, reading.timestamp
        newest[device_id] = max(newest.get(device_id, stamp), stamp)
        for latest, value in ((power, reading.power_w), (soc, reading.soc_kwh)):
            if value is not None and (
                device_id not in latest or stamp >= latest[device_id][0]
            ):
                latest[device_id] = (stamp, value)
    seen = []
    for device_id in sorted(newest):
        device = devices[device_id]
        seen_at = min(newest[device_id], now)
        power_at, power_w = power.get(device_id, (None, None))
        soc_at, soc_kwh = soc.get(device_id, (None, None))
        seen.append(
            Sighting(
                device_id,
                device.user_id,
                device.reading_interval_s,
                seen_at,
                now - seen_at <= rule.silence(device.reading_interval_s),
                power_w,
                power_at,
                soc_kwh,
                soc_at,
            )
        )
    return seen


def from_state(
    state, device_id: str, user_id: str, reading_interval_s: int
) -> DeviceStatus:
    """A device's status from its ``device_states`` row; None: never heard from,
    so offline and never seen."""
    if state is None:
        return DeviceStatus(device_id, user_id, reading_interval_s)
    return DeviceStatus(
        device_id,
        user_id,
        reading_interval_s,
        state.online,
        state.since,
        state.last_seen,
        state.power_w,
        state.power_at,
        state.soc_kwh,
        state.soc_at,
    )


@dataclass(frozen=True)
class Presence:
    """What a device said on its presence topic."""

    device_id: str
    online: bool


def parse_presence(body, routing_key: str) -> Presence:
    """The presence in a message, or ``InvalidPresence`` saying why it is not one.

    The device is the one its routing key names (``ems.devices.<id>.status``: the
    broker lets a device publish only under its own id); the body is
    ``{"online": true|false}``, other fields ignored.
    """
    device_id = device_of_key(routing_key, STATUS)
    if not is_id(device_id):
        raise InvalidPresence(
            f"routing key {routing_key[:100]!r} names no device "
            "(ems.devices.<id>.status)"
        )
    if isinstance(body, bytes | str):
        # Over MQTT a body comes without a content type, undecoded.
        try:
            body = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise InvalidPresence(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("online"), bool):
        raise InvalidPresence('a presence is {"online": true} or {"online": false}')
    return Presence(device_id, body["online"])
