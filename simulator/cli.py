"""``ems simulate``: publish readings of simulated devices, live or back-filled.

Live (no --start): readings stamped now, cycling over the devices at --rate readings
per second in total; each covers the time since that device's previous reading, so
hourly totals stay realistic at any rate. Back-fill (--start): one reading per device
for every --interval ending after START and no later than now, as fast as the broker
confirms. Either stops after --count confirmed readings, after --duration, or on
Ctrl-C, and prints the totals.

History (--history, with --email or --demo, before going live): each device's
hourly readings for that long before it joined the platform, sent through the
platform like any reading. Their ids follow from the device and the hour, so a
second start sends the same readings and the platform counts each once.

Each device is simulated by the model of its kind (``devices``): PV systems also
report their export, batteries their charge. With --commands the devices of an
account talk back, live over MQTT, each on a connection of its own: they take
commands, answer them and say when they are online (``link``).
"""

import argparse
import functools
import json
import math
import re
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, uuid4, uuid5

import requests

import config
from ems import accounts
from services.common.amqp import Backoff
from services.common.topology import iso_utc
from services.devices.schemas import KINDS
from simulator.commands import Behaviour, CommandHandler
from simulator.devices import DEFAULT_LOCATION, Fleet
from simulator.link import DeviceLink, DeviceLinks
from simulator.profiles import (
    DEFAULT_KIND,
    DEFAULT_MAX_HOURLY_KWH,
    Device,
)
from simulator.publisher import (
    AmqpPublisher,
    DeviceLogin,
    DevicePublishers,
    MqttPublisher,
    Publisher,
    Stopped,
    Stopper,
    warn,
)

DEVICE_HELP = (
    "a device to simulate (repeatable): ID, ID:MAX_KWH, ID:KIND or ID:KIND:MAX_KWH; "
    f"KIND is one of {', '.join(KINDS)} (default {DEFAULT_KIND}), MAX_KWH its "
    f"max_hourly_kwh (default {DEFAULT_MAX_HOURLY_KWH})"
)
# Characters that would change a routing key (``device.<id>.reading``) or an MQTT
# topic (``ems/devices/<id>/reading``) into something else.
FORBIDDEN_IN_ID = re.compile(r"[.#*/+\s]")
#: History is hourly, always: readings of another interval would have other ids,
#: and be counted beside those a previous start sent.
HISTORY_INTERVAL = timedelta(hours=1)
#: The namespace of history readings' ids (``history_reading_id``).
HISTORY_NAMESPACE = uuid5(NAMESPACE_URL, "https://ems.localhost/simulator/history")
DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


# -- arguments -------------------------------------------------------------------


def parse_device(spec: str) -> Device:
    """``ID``, ``ID:MAX_KWH``, ``ID:KIND`` or ``ID:KIND:MAX_KWH``."""
    device_id, *rest = spec.split(":")
    if not device_id or FORBIDDEN_IN_ID.search(device_id):
        raise argparse.ArgumentTypeError(f"bad device id in {spec!r}")
    kind, limit = DEFAULT_KIND, str(DEFAULT_MAX_HOURLY_KWH)
    if len(rest) == 1:
        if rest[0] in KINDS:
            kind = rest[0]
        else:
            limit = rest[0]
    elif len(rest) == 2:
        kind, limit = rest
    elif rest:
        raise argparse.ArgumentTypeError(f"too many parts in {spec!r}")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown kind {kind!r} in {spec!r}")
    try:
        return Device(device_id, kind, float(limit))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{limit!r} in {spec!r} is neither a kind nor a positive kWh limit"
        ) from None


def parse_duration(text: str) -> timedelta:
    """``900``, ``90s``, ``15m``, ``1h``, ``1d`` or ``2.5`` (seconds)."""
    match = DURATION.fullmatch(text.strip())
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"not a positive duration: {text!r}")
    return timedelta(seconds=float(match[1]) * UNIT_SECONDS[match[2]])


def parse_interval(text: str) -> timedelta:
    """A duration of whole seconds: reading timestamps carry no fractions."""
    interval = parse_duration(text)
    if interval.total_seconds() != int(interval.total_seconds()):
        raise argparse.ArgumentTypeError(f"not whole seconds: {text!r}")
    return interval


def parse_start(text: str) -> datetime:
    """ISO-8601; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_behaviour(text: str) -> tuple[str, Behaviour]:
    """``DEVICE_ID=BEHAVIOUR``."""
    device_id, _, name = text.partition("=")
    if not device_id or FORBIDDEN_IN_ID.search(device_id):
        raise argparse.ArgumentTypeError(f"bad device id in {text!r}")
    try:
        return device_id, Behaviour(name)
    except ValueError:
        choices = ", ".join(b.value for b in Behaviour)
        raise argparse.ArgumentTypeError(
            f"{name!r} in {text!r} is not one of {choices}"
        ) from None


def parse_location(text: str) -> tuple[float, float]:
    """``LATITUDE,LONGITUDE`` in degrees (north and east positive)."""
    try:
        latitude, longitude = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not LATITUDE,LONGITUDE: {text!r}") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise argparse.ArgumentTypeError(f"not a place on Earth: {text!r}")
    return latitude, longitude


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"not between 0 and 1: {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``ems simulate``; ``ems`` dispatches to ``run``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--device",
        dest="devices",
        action="append",
        type=parse_device,
        metavar="SPEC",
        help=DEVICE_HELP,
    )
    source.add_argument(
        "--email",
        help="list the devices of this account from the API instead (an ADMIN sees "
        "every device); a live run waits for the API and picks up new devices",
    )
    source.add_argument(
        "--demo",
        action="store_true",
        help="the demo household's devices, with the demo login `make up` prints, "
        "and their history of EMS_DEMO_HISTORY_DAYS (60) unless --history says; "
        "with EMS_DEMO=0 it waits for Ctrl-C instead (a process list stops every "
        "process when one exits)",
    )
    parser.add_argument(
        "--password", help="the account's password (default EMS_SIMULATOR_PASSWORD)"
    )
    parser.add_argument(
        "--mqtt",
        action="store_true",
        help="publish over MQTT (QoS 1), not AMQP; needs --email or --demo",
    )
    parser.add_argument(
        "--commands",
        action="store_true",
        help="live, over MQTT (implies --mqtt), with --email or --demo: each device "
        "also takes commands on ems/devices/<id>/commands, answers them on "
        ".../acks and says on .../status when it is online; every reading then "
        "has power_w",
    )
    parser.add_argument(
        "--behaviour",
        dest="behaviours",
        action="append",
        type=parse_behaviour,
        metavar="ID=BEHAVIOUR",
        help="with --commands, for tests (repeatable): the device with this id "
        "rejects every command (reject), answers none (ignore), or at its first "
        "command stops publishing and drops its connection so that its will says "
        "offline (silent); the others obey",
    )
    parser.add_argument(
        "--location",
        type=parse_location,
        metavar="LAT,LON",
        help="where PV systems stand, for their clear-sky output, in degrees north "
        "and east (--location=-33.9,18.4 for a place south; default "
        "EMS_SIMULATOR_LATITUDE and EMS_SIMULATOR_LONGITUDE, or the installation's "
        "EMS_LATITUDE and EMS_LONGITUDE)",
    )
    parser.add_argument(
        "--rate",
        type=positive(float),
        default=1.0,
        help="live: readings per second over all devices (default 1)",
    )
    parser.add_argument(
        "--interval",
        type=parse_interval,
        default=timedelta(minutes=15),
        help="back-fill: the reading interval, e.g. 15m (default), 1h, 300",
    )
    parser.add_argument(
        "--history",
        type=parse_duration,
        metavar="DURATION",
        help="live, with --email or --demo: first send each device's hourly "
        "readings of this long (e.g. 60d) up to the hour it was created, with ids "
        "made of the device and the hour, so that a second start adds nothing",
    )
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument(
        "--count", type=positive(int), help="stop after N confirmed readings"
    )
    stop.add_argument(
        "--duration", type=parse_duration, help="stop after S seconds (or 10m, 1h)"
    )
    parser.add_argument(
        "--start",
        type=parse_start,
        help="back-fill from this ISO-8601 time (UTC unless it has an offset) to now",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of the profiles (default: EMS_SIMULATOR_SEED, else random)",
    )
    parser.add_argument(
        "--spike-probability",
        type=probability,
        help="chance that a reading is a spike above the device's limit "
        "(default: EMS_SIMULATOR_SPIKE_PROBABILITY, 0.01)",
    )
    parser.add_argument(
        "--relist",
        type=positive(float),
        default=30.0,
        help="with --email, live: seconds between listings of the devices",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no line per reading, only the totals"
    )
    parser.add_argument(
        "--summary-json",
        type=Path,
        metavar="PATH",
        help='write {"sent", "confirmed", "resent", "kwh_by_device", '
        '"export_kwh_by_device", "readings_by_device"} to PATH at the end',
    )
    parser.add_argument(
        "--summary-reading-ids",
        action="store_true",
        help="add the confirmed reading_ids to the --summary-json file",
    )
    parser.set_defaults(handler=run)


def check_arguments(args, now: datetime) -> str | None:
    """What is wrong with ``args`` that argparse cannot see, if anything."""
    if args.email and not args.password:
        return "--email needs --password (or EMS_SIMULATOR_PASSWORD)"
    if args.mqtt and not args.email:
        return "--mqtt publishes with each device's credentials: use --email or --demo"
    if args.commands and not args.email:
        return "--commands needs each device's credentials: use --email or --demo"
    if args.behaviours and not args.commands:
        return "--behaviour is for devices that take --commands"
    if args.commands and args.start is not None:
        return "--commands is live only: devices take commands as they come"
    if args.history is not None and not args.email:
        return "--history needs each device's creation time: use --email or --demo"
    if args.history is not None and args.start is not None:
        return "--history comes before a live run: leave out --start"
    if args.start is not None and args.start >= now:
        return "--start must be in the past"
    return None


# -- devices ---------------------------------------------------------------------


class ApiRefused(Exception):
    """The API rejected the request itself (400): trying again will not help."""


class ApiUnavailable(Exception):
    """The API did not answer as hoped; it may later."""


class FixedDevices:
    """The devices given on the command line."""

    def __init__(self, devices: list[Device]):
        self.devices = list(dict.fromkeys(devices))

    def wait(self) -> list[Device]:
        return self.devices

    def refresh(self) -> list[Device] | None:
        return self.devices


class AccountDevices:
    """The devices an account sees through the API.

    The simulator may start before the platform (one process list starts both), so
    every failure but a 400 is waited out: a refused login may be an account that
    does not exist yet.
    """

    def __init__(self, api_url: str, email: str, password: str, stopper: Stopper):
        self.api_url = api_url.rstrip("/")
        self.credentials = {"email": email, "password": password}
        self.stopper = stopper
        self.http = requests.Session()
        self.token = None
        #: When each listed device was created.
        self.created: dict[str, datetime] = {}

    def check(self, response, what: str) -> None:
        if response.status_code == 200:
            return
        try:
            error = response.json().get("message", "")
        except ValueError:
            error = ""
        message = f"{what}: HTTP {response.status_code} {error}".strip()
        if response.status_code == 400:
            raise ApiRefused(message)
        if response.status_code == 401:
            # An expired or revoked token, or credentials not (yet) valid.
            self.token = None
        raise ApiUnavailable(message)

    def fetch(self) -> list[Device]:
        """One attempt: log in if need be, then list the devices."""
        if self.token is None:
            response = self.http.post(
                f"{self.api_url}/api/auth/login", json=self.credentials, timeout=10
            )
            self.check(response, "login")
            self.token = response.json()["access_token"]
        response = self.http.get(
            f"{self.api_url}/api/devices",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        self.check(response, "listing devices")
        devices = []
        for item in response.json():
            try:
                devices.append(
                    Device(
                        str(item["id"]),
                        item.get("kind") or DEFAULT_KIND,
                        float(item.get("max_hourly_kwh") or DEFAULT_MAX_HOURLY_KWH),
                    )
                )
                if item.get("created_at"):
                    self.created[str(item["id"])] = parse_start(item["created_at"])
            except (KeyError, TypeError, ValueError, argparse.ArgumentTypeError):
                warn(f"skipping a device the simulator cannot use: {item!r}")
        return devices

    def login_of(self, device_id: str) -> DeviceLogin:
        """New broker credentials for the device, as its owner provisions them."""
        backoff = Backoff(first=1.0, most=30.0)
        while True:
            try:
                if self.token is None:
                    self.fetch()
                response = self.http.post(
                    f"{self.api_url}/api/devices/{device_id}/credentials",
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=10,
                )
                if response.status_code == 201:
                    return DeviceLogin.from_answer(response.json())
                self.check(response, f"credentials of {device_id}")
            except (requests.RequestException, ApiUnavailable, ValueError) as exc:
                delay = backoff.next()
                warn(f"no credentials for {device_id} ({exc}); again in {delay:.0f} s")
                if not self.stopper.sleep(delay):
                    raise Stopped from exc

    def refresh(self) -> list[Device] | None:
        """The devices now, or None if the API did not answer."""
        try:
            return self.fetch()
        except (requests.RequestException, ApiUnavailable, ValueError) as exc:
            warn(f"could not list the devices ({exc}); keeping the old list")
            return None

    def wait(self) -> list[Device]:
        """The devices, once the API answers (Stopped if a stop comes first)."""
        backoff = Backoff(first=1.0, most=30.0)
        while True:
            try:
                return self.fetch()
            except (requests.RequestException, ApiUnavailable, ValueError) as exc:
                delay = backoff.next()
                warn(f"API at {self.api_url} not ready ({exc}); again in {delay:.0f} s")
                if not self.stopper.sleep(delay):
                    raise Stopped from exc


# -- readings --------------------------------------------------------------------


class Run:
    """One simulation: makes readings, publishes them, keeps the totals.

    ``fleet`` holds each device's model (one is made from ``seed`` and
    ``spike_probability`` if none is given); with ``power`` every reading has
    ``power_w``, not only those of devices that can deliver.
    """

    def __init__(
        self,
        publisher: Publisher,
        stopper: Stopper,
        seed: int,
        spike_probability: float,
        count: int | None = None,
        quiet: bool = False,
        out=None,
        fleet: Fleet | None = None,
        power: bool = False,
    ):
        self.publisher, self.stopper = publisher, stopper
        self.seed, self.spike_probability = seed, spike_probability
        self.count, self.quiet = count, quiet
        self.out = out or sys.stdout
        self.fleet = fleet or Fleet(seed, spike_probability)
        self.power = power
        self.kwh_by_device: dict[str, float] = {}
        self.export_kwh_by_device: dict[str, float] = {}
        self.readings_by_device: dict[str, int] = {}
        self.reading_ids: list[str] = []

    @property
    def done(self) -> bool:
        reached = self.count is not None and self.publisher.confirmed >= self.count
        return reached or self.stopper.stopped

    def publish(
        self,
        device: Device,
        end: datetime,
        interval: timedelta,
        fleet: Fleet | None = None,
        reading_id: str | None = None,
    ) -> bool:
        """Make and publish the reading; False if stopped before it was confirmed.
        ``fleet`` models the device instead of the run's own, and ``reading_id``
        names the reading instead of a new random id.

        A device gone silent (``--behaviour ID=silent``) publishes nothing more.
        """
        if self.publisher.is_silent(device.id):
            return True
        telemetry = (fleet or self.fleet).read(device, end, interval)
        reading = {
            "reading_id": reading_id or str(uuid4()),
            "device_id": device.id,
            "timestamp": iso_utc(end),
            **telemetry.fields(power=self.power),
        }
        try:
            self.publisher.publish(reading)
        except Stopped:
            return False
        self.kwh_by_device[device.id] = (
            self.kwh_by_device.get(device.id, 0.0) + reading["kwh"]
        )
        if "export_kwh" in reading:
            self.export_kwh_by_device[device.id] = (
                self.export_kwh_by_device.get(device.id, 0.0) + reading["export_kwh"]
            )
        self.readings_by_device[device.id] = (
            self.readings_by_device.get(device.id, 0) + 1
        )
        self.reading_ids.append(reading["reading_id"])
        if not self.quiet:
            print(self.line(reading, telemetry.spike), file=self.out, flush=True)
        return True

    @staticmethod
    def line(reading: dict, spike: bool) -> str:
        line = f"{reading['device_id']}  {reading['timestamp']}"
        line += f"  {reading['kwh']:.6f} kWh"
        if "export_kwh" in reading:
            line += f"  export {reading['export_kwh']:.6f} kWh"
        if "power_w" in reading:
            line += f"  {reading['power_w']:.1f} W"
        if "soc_kwh" in reading:
            line += f"  soc {reading['soc_kwh']:.3f} kWh"
        return line + ("  spike" if spike else "")

    def summary(self, reading_ids: bool = False) -> dict:
        summary = {
            "sent": self.publisher.sent,
            "confirmed": self.publisher.confirmed,
            "resent": self.publisher.resent,
            "kwh_by_device": dict(self.kwh_by_device),
            "export_kwh_by_device": dict(self.export_kwh_by_device),
            "readings_by_device": dict(self.readings_by_device),
        }
        if reading_ids:
            summary["reading_ids"] = list(self.reading_ids)
        return summary

    def print_summary(self) -> None:
        publisher = self.publisher
        lines = [
            f"sent {publisher.sent}, confirmed {publisher.confirmed}, "
            f"resent {publisher.resent}"
        ]
        for device_id, kwh in sorted(self.kwh_by_device.items()):
            readings = self.readings_by_device[device_id]
            line = f"  {device_id}  {kwh:.6f} kWh in {readings} readings"
            if device_id in self.export_kwh_by_device:
                line += f", export {self.export_kwh_by_device[device_id]:.6f} kWh"
            lines.append(line)
        print("\n".join(lines), file=self.out, flush=True)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def backfill_ends(
    start: datetime, now: datetime, interval: timedelta
) -> list[datetime]:
    """The ends of every interval ending after ``start`` and no later than ``now``,
    on multiples of ``interval`` since the epoch (15-minute boundaries for 15m)."""
    step = int(interval.total_seconds())
    first = math.floor(start.timestamp()) // step + 1
    last = math.floor(now.timestamp()) // step
    return [datetime.fromtimestamp(k * step, UTC) for k in range(first, last + 1)]


def backfill(run: Run, devices: list[Device], start: datetime, interval: timedelta):
    """Every interval from ``start`` to now, oldest first, all devices per interval."""
    for end in backfill_ends(start, utc_now(), interval):
        for device in devices:
            if run.done or not run.publish(device, end, interval):
                return


def history_reading_id(device_id: str, end: datetime) -> str:
    """The id of a device's history reading that ends at ``end``: the same at
    every start, so the platform drops the copies a later start sends."""
    return str(uuid5(HISTORY_NAMESPACE, f"{device_id}/{iso_utc(end)}"))


def history_ends(created: datetime, now: datetime, span: timedelta) -> list[datetime]:
    """The ends of a device's hourly history readings: every whole hour within
    ``span`` before ``now`` and no later than the device's creation, so that no
    history reading covers time its live readings cover."""
    return backfill_ends(now - span, min(created, now), HISTORY_INTERVAL)


def history(
    run: Run, devices: list[Device], created: dict, span: timedelta
) -> int | None:
    """Each device's history (``history_ends``), oldest hour first, every device
    per hour, modelled apart from the live readings that follow; how many readings
    were confirmed, or None if the run stopped first. A device whose creation time
    is unknown has none."""
    now = utc_now()
    fleet = Fleet(run.seed, run.spike_probability, run.fleet.location)
    ends = {
        device.id: set(history_ends(created[device.id], now, span))
        for device in devices
        if device.id in created
    }
    sent = 0
    for end in sorted(set().union(*ends.values())):
        for device in devices:
            if end not in ends.get(device.id, ()):
                continue
            reading_id = history_reading_id(device.id, end)
            if run.done or not run.publish(
                device, end, HISTORY_INTERVAL, fleet, reading_id
            ):
                return None
            sent += 1
    return sent


class Histories:
    """``--history``: the history of each device the first time a live run lists
    it, before its first live reading, so that a device listed late (the demo's,
    created while the simulator starts) has one as well."""

    def __init__(self, run: Run, created: dict, span: timedelta):
        self.run, self.created, self.span = run, created, span
        self.sent: set[str] = set()

    def __call__(self, devices: list[Device]) -> None:
        new = [device for device in devices if device.id not in self.sent]
        if not new:
            return
        warn(f"history of {len(new)} device(s) over {self.span}")
        count = history(self.run, new, self.created, self.span)
        if count is not None:
            self.sent.update(device.id for device in new)
            warn(f"history sent: {count} readings confirmed")


def live(run: Run, source, rate: float, relist: float, listed_first=None) -> None:
    """Readings stamped now, round-robin over the devices, ``rate`` per second.
    ``listed_first(devices)`` is called with every new listing before its
    readings (``Histories``)."""
    period = 1.0 / rate
    devices = source.wait()
    listed = time.monotonic()
    previous_end: dict[str, datetime] = {}
    turn, due = 0, time.monotonic()
    ensured = None
    while not run.done:
        if time.monotonic() - listed >= relist:
            devices = changed(devices, source.refresh())
            listed = time.monotonic()
        if devices is not ensured:
            # Devices that talk back connect at once, not at their first reading.
            run.publisher.ensure(devices)
            ensured = devices
            if listed_first is not None:
                listed_first(devices)
        if not devices:
            warn(f"no devices yet; listing them again in {relist:.0f} s")
            if not run.stopper.sleep(relist):
                return
            devices = changed(devices, source.wait())
            listed = time.monotonic()
            continue
        while (left := due - time.monotonic()) > 0:
            # Idle connections still answer heartbeats, or the broker drops them.
            run.publisher.keepalive()
            if not run.stopper.sleep(min(left, 1.0)):
                return
        device = devices[turn % len(devices)]
        turn += 1
        end = utc_now()
        # A device's first reading covers one round over all devices.
        first = end - timedelta(seconds=max(1, round(len(devices) * period)))
        interval = end - previous_end.get(device.id, first)
        previous_end[device.id] = end
        if not run.publish(device, end, interval):
            return
        # After a stall (the broker away), carry on at the rate, no burst to catch up.
        due = max(due + period, time.monotonic() - period)


def changed(devices: list[Device], listed: list[Device] | None) -> list[Device]:
    if listed is None or listed == devices:
        return devices
    warn(f"simulating {len(listed)} device{'' if len(listed) == 1 else 's'}")
    return listed


# -- the command -----------------------------------------------------------------


def use_demo_login(args) -> bool:
    """Take the demo household's login; False (after idling) when there is none."""
    common = config.settings("common")
    if not accounts.demo_enabled(common):
        warn("the demo household is off (EMS_DEMO=0): nothing to simulate")
        stopper = Stopper()
        stopper.install()
        while stopper.sleep(3600):
            pass
        return False
    demo = accounts.login(common, "DEMO")
    args.email, args.password = demo.email, demo.password
    if args.history is None and args.start is None:
        # A live run's history; a back-fill (--start) is history of its own.
        days = float(config.settings("simulator")["DEMO_HISTORY_DAYS"] or 0)
        args.history = timedelta(days=days) if days > 0 else None
    return True


def make_publisher(args, conf, source, stopper: Stopper, fleet: Fleet) -> Publisher:
    """Devices of an account publish as themselves, each with credentials of its
    own (with --commands, on links that also take commands); ``--device``
    readings go out with the platform's own AMQP login."""
    amqp_uri = str(conf["AMQP_URI"])
    if not isinstance(source, AccountDevices):
        return AmqpPublisher(amqp_uri, stopper)
    if args.commands:
        behaviours = dict(args.behaviours or [])

        def device_link(device: Device) -> Publisher:
            fleet.model(device)
            handler = CommandHandler(
                functools.partial(fleet.apply, device.id),
                behaviours.get(device.id, Behaviour.OBEY),
            )
            link = DeviceLink(
                conf["MQTT_HOST"],
                conf["MQTT_PORT"],
                stopper,
                source.login_of(device.id),
                device.id,
                handler,
            )
            link.start()
            return link

        return DeviceLinks(device_link, stopper)

    def device_publisher(device_id: str) -> Publisher:
        login = source.login_of(device_id)
        if args.mqtt:
            return MqttPublisher(
                conf["MQTT_HOST"], conf["MQTT_PORT"], stopper, login=login
            )
        return AmqpPublisher(login.amqp_uri(amqp_uri), stopper, declare=False)

    return DevicePublishers(device_publisher, stopper, "MQTT" if args.mqtt else "AMQP")


def location_of(args, conf) -> tuple[float, float]:
    if args.location is not None:
        return args.location
    return simulator_location(conf)


def simulator_location(conf) -> tuple[float, float]:
    """Where simulated PV systems stand by the ``simulator`` settings."""
    latitude, longitude = conf.get("LATITUDE"), conf.get("LONGITUDE")
    if latitude in (None, "") or longitude in (None, ""):
        return DEFAULT_LOCATION
    return float(latitude), float(longitude)


def run(args) -> int:
    """``ems simulate``."""
    conf = config.settings("simulator")
    if args.demo and not use_demo_login(args):
        return 0
    if args.commands:
        args.mqtt = True
    password = args.password or conf.get("PASSWORD")
    args.password = str(password) if password else None
    problem = check_arguments(args, datetime.now(UTC))
    if problem:
        print(f"ems simulate: error: {problem}", file=sys.stderr)
        return 2
    deadline = None
    if args.duration is not None:
        deadline = time.monotonic() + args.duration.total_seconds()
    stopper = Stopper(deadline)
    stopper.install()
    seed = args.seed
    if seed is None:
        seed = int(conf["SEED"]) if conf.get("SEED") is not None else None
    if seed is None:
        seed = secrets.randbelow(2**32)
    spike_probability = args.spike_probability
    if spike_probability is None:
        spike_probability = float(conf["SPIKE_PROBABILITY"] or 0.0)

    if args.email:
        api_url = conf.get("API_URL") or f"http://127.0.0.1:{conf['HTTP_PORT']}"
        source = AccountDevices(str(api_url), args.email, args.password, stopper)
    else:
        source = FixedDevices(args.devices)
    fleet = Fleet(seed, spike_probability, location_of(args, conf))
    publisher = make_publisher(args, conf, source, stopper, fleet)
    simulation = Run(
        publisher,
        stopper,
        seed,
        spike_probability,
        args.count,
        args.quiet,
        fleet=fleet,
        power=args.commands,
    )
    mode = f"back-fill from {iso_utc(args.start)}" if args.start else "live"
    warn(
        f"{mode} over {publisher.transport}, seed {seed}, "
        f"spike probability {spike_probability}"
    )
    code = 0
    try:
        if args.start is not None:
            devices = source.wait()
            if not devices:
                warn("no devices to back-fill")
                code = 1
            else:
                backfill(simulation, devices, args.start, args.interval)
        else:
            histories = None
            if args.history is not None:
                histories = Histories(simulation, source.created, args.history)
            live(simulation, source, args.rate, args.relist, histories)
    except (Stopped, KeyboardInterrupt):
        pass
    except ApiRefused as exc:
        warn(f"the API refused: {exc}")
        code = 1
    finally:
        publisher.close()
        simulation.print_summary()
        if args.summary_json:
            summary = simulation.summary(args.summary_reading_ids)
            args.summary_json.write_text(json.dumps(summary, indent=2) + "\n")
    return code
