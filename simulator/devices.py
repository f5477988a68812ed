"""Simulated devices with a state: what each draws, delivers and stores as simulated
time passes, and the commands that change it.

Pure and deterministic: no broker and no clock. A model is told the time: ``apply``
a command at a moment, ``read`` the reading of the interval that ends at a moment.
Between the two the model integrates what its state did, so a command in the middle
of an interval counts from then on.

What a reading says, in every model:

- ``kwh``: the energy drawn from the household's connection (import), ≥ 0; the one
  field of every reading, as the platform counts it.
- ``export_kwh``: the energy delivered into it (a PV system's generation, a battery
  discharging), ≥ 0.
- ``power_w``: the power at the reading's end, positive when the device draws,
  negative when it delivers (the sign of ``kwh`` minus ``export_kwh``).
- ``soc_kwh``: a battery's charge at the reading's end.

A device that was never commanded draws exactly what ``profiles`` says (noise and
spikes included), so readings without commands are the simulator's usual ones.
"""

import math
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from services.batteries import physics
from services.batteries.exceptions import CommandRefused
from simulator.profiles import (
    EV_CHARGING,
    EV_STANDBY,
    HOUR,
    Device,
    ev_plugged,
    interval_kwh,
    power_fraction,
    sample_moments,
)

#: Where simulated PV systems stand unless told otherwise: Greenwich, whose solar
#: noon is noon UTC, the simulated households' time.
DEFAULT_LOCATION = (51.48, 0.0)

#: An EV charger's voltage per phase; chargers above 7.4 kW (32 A on one phase)
#: are three-phase.
EV_VOLTS = 230.0
SINGLE_PHASE_MAX_KW = 7.4
#: The lowest charging current IEC 61851 allows; 0 pauses.
EV_MIN_AMPS = 6.0

#: A battery device of ``max_hourly_kwh`` charges and discharges at up to that many
#: kW, holds two hours of it, starts half full; the platform's battery defaults.
BATTERY_HOURS = 2.0
BATTERY_START = 0.5
BATTERY_EFFICIENCY = 0.9


class Rejected(Exception):
    """The device does not take this command; the message says why."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Telemetry:
    """One reading's measurements."""

    kwh: float
    power_w: float
    export_kwh: float | None = None
    soc_kwh: float | None = None
    spike: bool = False

    def fields(self, power: bool = False) -> dict:
        """The reading's fields besides its id, device and timestamp: ``kwh``;
        ``export_kwh`` and ``power_w`` of a device that can deliver; ``soc_kwh`` of
        a battery; ``power_w`` of any device if ``power``."""
        fields = {"kwh": round(self.kwh, 6)}
        if self.export_kwh is not None:
            fields["export_kwh"] = round(self.export_kwh, 6)
        if power or self.export_kwh is not None:
            fields["power_w"] = round(self.power_w, 1)
        if self.soc_kwh is not None:
            fields["soc_kwh"] = round(self.soc_kwh, 6)
        return fields


def epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("moments must be timezone-aware (UTC)")
    return moment.timestamp()


def number(params: dict, name: str) -> float:
    """``params[name]`` as a finite number, or Rejected."""
    value = params.get(name) if isinstance(params, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected(f"params.{name} must be a number")
    if not math.isfinite(value):
        raise Rejected(f"params.{name} must be finite")
    return float(value)


class Model:
    """A device's state and its accounting since its last reading.

    Subclasses name their commands in ``COMMANDS`` (type → method taking the
    params and returning what the acknowledgement says) and integrate their state
    over a stretch of time in ``integrate``.
    """

    COMMANDS: dict[str, str] = {}

    def __init__(self, device: Device, seed: int, spike_probability: float = 0.0):
        self.device, self.seed = device, seed
        self.spike_probability = spike_probability
        #: Epoch seconds up to which the state has been integrated; None before the
        #: first reading or command.
        self.clock: float | None = None
        #: Where the reading being accumulated started.
        self.since: float | None = None

    @property
    def max_kw(self) -> float:
        return self.device.max_hourly_kwh

    def commands(self) -> tuple[str, ...]:
        return tuple(self.COMMANDS)

    def apply(self, command_type: str, params: dict, at: datetime) -> str:
        """Carry out a command at ``at``: what the acknowledgement says, or
        Rejected (and nothing changed)."""
        method = self.COMMANDS.get(command_type)
        if method is None:
            kind = self.device.kind
            raise Rejected(f"a {kind} device does not take {command_type!r} commands")
        if not isinstance(params, dict):
            raise Rejected("params must be an object")
        self.advance(epoch(at))
        return getattr(self, method)(params)

    def read(self, end: datetime, interval: timedelta) -> Telemetry:
        """The reading that ends at ``end``. It covers the time since the previous
        reading; the first covers ``interval`` (or the time since the first
        command, if one came before it)."""
        end_s = epoch(end)
        if self.clock is None:
            self.start(end_s - interval.total_seconds())
        self.advance(end_s)
        telemetry = self.measure(self.since, end_s)
        self.since = self.clock
        self.reset()
        return telemetry

    def start(self, at: float) -> None:
        self.clock = self.since = at
        self.reset()

    def advance(self, until: float) -> None:
        """Integrate the state up to ``until`` (epoch seconds)."""
        if self.clock is None:
            self.start(until)
            return
        if until > self.clock:
            self.integrate(self.clock, until)
            self.clock = until

    def drawn(self, since: float, end: float):
        """The noisy draw of the device's usual profile from ``since`` to ``end``."""
        interval = timedelta(seconds=max(0.0, end - since))
        return interval_kwh(
            self.device,
            datetime.fromtimestamp(end, UTC),
            interval,
            self.seed,
            self.spike_probability,
        )

    def profile_w(self, moment: float) -> float:
        """The usual profile's power at ``moment``, without noise."""
        fraction = power_fraction(self.device, np.array([moment]), self.seed)[0]
        return float(fraction) * self.max_kw * 1000.0

    # What subclasses fill in.

    def reset(self) -> None:
        """Forget what was accumulated for the last reading."""

    def integrate(self, start: float, end: float) -> None:
        """Accumulate what the state did from ``start`` to ``end``."""

    def measure(self, since: float, end: float) -> Telemetry:
        raise NotImplementedError


class SwitchableLoad(Model):
    """A consumer that follows its kind's daily profile while on and draws nothing
    while off: ``switch {"on": false}`` stops it, ``{"on": true}`` resumes it."""

    COMMANDS = {"switch": "switch"}

    def __init__(self, device: Device, seed: int, spike_probability: float = 0.0):
        super().__init__(device, seed, spike_probability)
        self.on = True

    def reset(self) -> None:
        self.usual_kwh = self.actual_kwh = 0.0

    def fractions(self, moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The usual profile's and the state's power at ``moments``, as fractions
        of the device's limit."""
        usual = power_fraction(self.device, moments, self.seed)
        return usual, usual if self.on else np.zeros(moments.shape)

    def integrate(self, start: float, end: float) -> None:
        seconds = end - start
        usual, actual = self.fractions(sample_moments(end, seconds))
        scale = self.max_kw * seconds / HOUR
        self.usual_kwh += float(usual.mean()) * scale
        self.actual_kwh += float(actual.mean()) * scale

    def measure(self, since: float, end: float) -> Telemetry:
        # The usual noisy draw, scaled by how much of the usual the state let
        # through: exactly the usual reading when nothing was commanded.
        draw = self.drawn(since, end)
        share = self.actual_kwh / self.usual_kwh if self.usual_kwh > 0 else 0.0
        if self.actual_kwh == self.usual_kwh:
            share = 1.0
        _, now = self.fractions(np.array([end]))
        return Telemetry(
            kwh=draw.kwh * share,
            power_w=float(now[0]) * self.max_kw * 1000.0,
            spike=draw.spike and share > 0,
        )

    def switch(self, params: dict) -> str:
        on = params.get("on")
        if not isinstance(on, bool):
            raise Rejected("params.on must be true or false")
        self.on = on
        return "on" if on else "off"


class EvCharger(SwitchableLoad):
    """A wallbox: a car charges in the evenings (``profiles``' blocks) at the
    charger's current, which ``ev_current {"amps"}`` sets between 6 A and the
    charger's rating, or 0 to pause. 230 V per phase; three phases above 7.4 kW.
    It is also switched on and off like any load."""

    COMMANDS = {"switch": "switch", "ev_current": "ev_current"}

    def __init__(self, device: Device, seed: int, spike_probability: float = 0.0):
        super().__init__(device, seed, spike_probability)
        self.phases = 1 if self.max_kw <= SINGLE_PHASE_MAX_KW else 3
        self.max_amps = self.max_kw * 1000.0 / (EV_VOLTS * self.phases)
        self.min_amps = min(EV_MIN_AMPS, self.max_amps)
        # Until told otherwise it charges as the usual profile does.
        self.amps = EV_CHARGING * self.max_amps

    @property
    def charging_fraction(self) -> float:
        return self.amps / self.max_amps

    def fractions(self, moments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        usual = power_fraction(self.device, moments, self.seed)
        plugged = ev_plugged(self.seed, self.device.id, moments)
        actual = np.where(plugged, self.charging_fraction, EV_STANDBY)
        return usual, actual if self.on else np.zeros(moments.shape)

    def ev_current(self, params: dict) -> str:
        amps = number(params, "amps")
        if amps != 0 and not self.min_amps <= amps <= self.max_amps:
            raise Rejected(
                f"params.amps must be 0 (pause) or between {self.min_amps:g} and "
                f"{self.max_amps:.1f} A"
            )
        self.amps = amps
        if amps == 0:
            return "paused"
        kw = amps * EV_VOLTS * self.phases / 1000.0
        return f"charging at {amps:g} A on {self.phases} phase(s), {kw:.2f} kW"


class PvInverter(Model):
    """A PV system of ``max_hourly_kwh`` kW peak: it exports what a clear sky gives
    at its place (``solar``), at most ``curtail {"max_percent"}`` of its peak, and
    draws its usual standby at night."""

    COMMANDS = {"curtail": "curtail"}

    def __init__(
        self,
        device: Device,
        seed: int,
        spike_probability: float = 0.0,
        location: tuple[float, float] = DEFAULT_LOCATION,
    ):
        super().__init__(device, seed, spike_probability)
        # pvlib and pandas take a second or more to import: only PV systems, not
        # every `ems` command, pay for them.
        from services.common.solar import ClearSkyPv

        self.sky = ClearSkyPv(*location, peak_kw=self.max_kw)
        self.max_percent = 100.0

    @property
    def cap_w(self) -> float:
        return self.max_kw * 1000.0 * self.max_percent / 100.0

    def export_w(self, moments: np.ndarray) -> np.ndarray:
        return np.minimum(self.sky.watts(moments), self.cap_w)

    def reset(self) -> None:
        self.export_kwh = 0.0

    def integrate(self, start: float, end: float) -> None:
        seconds = end - start
        watts = self.export_w(sample_moments(end, seconds))
        self.export_kwh += float(watts.mean()) * seconds / HOUR / 1000.0

    def measure(self, since: float, end: float) -> Telemetry:
        draw = self.drawn(since, end)
        delivered = float(self.export_w(np.array([end]))[0])
        return Telemetry(
            kwh=draw.kwh,
            power_w=self.profile_w(end) - delivered,
            export_kwh=self.export_kwh,
            spike=draw.spike,
        )

    def curtail(self, params: dict) -> str:
        percent = number(params, "max_percent")
        if not 0 <= percent <= 100:
            raise Rejected("params.max_percent must be between 0 and 100")
        self.max_percent = percent
        return f"export at most {percent:g} % of {self.max_kw:g} kW"


class Battery(Model):
    """A home battery of ``max_hourly_kwh`` kW, two hours of it, that follows
    ``battery_setpoint {"power_kw"}``: positive charges, negative discharges, 0
    idles, within its power limits (else rejected), until it is full or empty,
    where it stops. Its physics are the platform's (``services.batteries.physics``:
    power at the terminals, √η lost each way). Charging is import, discharging
    export; it also draws its usual standby."""

    COMMANDS = {"battery_setpoint": "setpoint"}

    def __init__(
        self,
        device: Device,
        seed: int,
        spike_probability: float = 0.0,
        limits: physics.Limits | None = None,
        soc_kwh: float | None = None,
    ):
        super().__init__(device, seed, spike_probability)
        self.limits = limits or physics.Limits(
            capacity_kwh=BATTERY_HOURS * self.max_kw,
            max_charge_kw=self.max_kw,
            max_discharge_kw=self.max_kw,
            efficiency=BATTERY_EFFICIENCY,
            min_soc=0.0,
            max_soc=1.0,
        )
        if soc_kwh is None:
            soc_kwh = BATTERY_START * self.limits.capacity_kwh
        self.state = physics.State(soc_kwh)

    def reset(self) -> None:
        self.charged_kwh = self.discharged_kwh = 0.0

    @property
    def terminal_w(self) -> float:
        """What the battery draws (+) or delivers (−) at its terminals now."""
        sign = {physics.CHARGING: 1.0, physics.DISCHARGING: -1.0}
        return sign.get(self.state.mode, 0.0) * self.state.power_kw * 1000.0

    def integrate(self, start: float, end: float) -> None:
        hours = (end - start) / HOUR
        bound = physics.hours_to_bound(self.limits, self.state)
        moving = hours if bound is None else min(hours, bound)
        if self.state.mode == physics.CHARGING:
            self.charged_kwh += self.state.power_kw * moving
        elif self.state.mode == physics.DISCHARGING:
            self.discharged_kwh += self.state.power_kw * moving
        self.state = physics.evolve(self.limits, self.state, hours)

    def measure(self, since: float, end: float) -> Telemetry:
        draw = self.drawn(since, end)
        return Telemetry(
            kwh=draw.kwh + self.charged_kwh,
            power_w=self.profile_w(end) + self.terminal_w,
            export_kwh=self.discharged_kwh,
            soc_kwh=self.state.soc_kwh,
            spike=draw.spike,
        )

    def setpoint(self, params: dict) -> str:
        power = number(params, "power_kw")
        limits = self.limits
        if not -limits.max_discharge_kw <= power <= limits.max_charge_kw:
            raise Rejected(
                f"params.power_kw must be between -{limits.max_discharge_kw:g} "
                f"(discharge) and {limits.max_charge_kw:g} (charge)"
            )
        action = physics.CHARGE if power > 0 else physics.DISCHARGE
        if power == 0:
            action = physics.IDLE
        try:
            self.state = physics.command(limits, self.state, action, abs(power) or None)
        except CommandRefused as exc:
            raise Rejected(exc.message) from None
        if action == physics.IDLE:
            return "idle"
        return f"{self.state.mode} at {abs(power):g} kW"


#: The model of each kind of device; other kinds are loads, as in ``profiles``.
MODELS = {
    "meter": SwitchableLoad,
    "appliance": SwitchableLoad,
    "heat_pump": SwitchableLoad,
    "ev_charger": EvCharger,
    "pv": PvInverter,
    "battery": Battery,
}


class Fleet:
    """The model of every simulated device, made on first use.

    Readings are taken on the main thread while commands arrive on each device's
    MQTT thread: both go through here, under the device's lock.
    """

    def __init__(
        self,
        seed: int,
        spike_probability: float = 0.0,
        location: tuple[float, float] = DEFAULT_LOCATION,
    ):
        self.seed, self.spike_probability = seed, spike_probability
        self.location = location
        self.models: dict[str, Model] = {}
        self.locks: dict[str, threading.Lock] = {}
        self.guard = threading.Lock()

    def lock(self, device_id: str) -> threading.Lock:
        with self.guard:
            return self.locks.setdefault(device_id, threading.Lock())

    def model(self, device: Device) -> Model:
        """``device``'s model; a new one if the device changed (kind or limit)."""
        with self.lock(device.id):
            model = self.models.get(device.id)
            if model is None or model.device != device:
                model = self.models[device.id] = self.make(device)
            return model

    def make(self, device: Device) -> Model:
        cls = MODELS.get(device.kind, SwitchableLoad)
        if cls is PvInverter:
            return cls(device, self.seed, self.spike_probability, self.location)
        return cls(device, self.seed, self.spike_probability)

    def read(self, device: Device, end: datetime, interval: timedelta) -> Telemetry:
        model = self.model(device)
        with self.lock(device.id):
            return model.read(end, interval)

    def apply(self, device_id: str, command_type: str, params, at: datetime) -> str:
        """Carry out a command on the device's model (Rejected if it has none)."""
        with self.lock(device_id):
            model = self.models.get(device_id)
            if model is None:
                raise Rejected("this device is not simulated")
            return model.apply(command_type, params, at)
