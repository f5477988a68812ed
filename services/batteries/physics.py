"""A battery's physics: how its charge evolves and which commands it takes.

Nothing here touches the database or the broker; the time that passed comes in as
an argument, so every rule is tested without either.

Conventions. ``power_kw`` is measured at the battery's terminals, on the
household's side: what it draws when charging, what it delivers when discharging.
The round-trip efficiency η is lost half on the way in and half on the way out:
charging at p kW for t hours stores p·t·√η kWh, discharging at p kW for t hours
takes p·t/√η kWh out of the cells, so a kWh charged and discharged again gives back
η kWh. The charge stays between ``min_soc`` and ``max_soc`` (fractions of
``capacity_kwh``); a battery that reaches either bound stops there and goes idle.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.batteries.exceptions import CommandRefused

#: What a battery is doing, and the commands that set it.
IDLE, CHARGING, DISCHARGING = "idle", "charging", "discharging"
MODES = (IDLE, CHARGING, DISCHARGING)
CHARGE, DISCHARGE = "charge", "discharge"
ACTIONS = (CHARGE, DISCHARGE, IDLE)
MODE_OF = {CHARGE: CHARGING, DISCHARGE: DISCHARGING, IDLE: IDLE}

#: Energies (kWh) closer than this are equal: the difference is float noise.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Limits:
    """What a battery can do."""

    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    #: Round-trip, 0 < η ≤ 1; √η is lost charging and √η discharging.
    efficiency: float
    min_soc: float
    max_soc: float

    @classmethod
    def of(cls, battery) -> "Limits":
        """The limits of anything that has these attributes (a stored battery)."""
        return cls(
            capacity_kwh=battery.capacity_kwh,
            max_charge_kw=battery.max_charge_kw,
            max_discharge_kw=battery.max_discharge_kw,
            efficiency=battery.efficiency,
            min_soc=battery.min_soc,
            max_soc=battery.max_soc,
        )

    @property
    def leg(self) -> float:
        """The efficiency of one way, in or out: √η."""
        return math.sqrt(self.efficiency)

    @property
    def soc_min_kwh(self) -> float:
        return self.min_soc * self.capacity_kwh

    @property
    def soc_max_kwh(self) -> float:
        return self.max_soc * self.capacity_kwh

    @property
    def charge_per_hour(self) -> float:
        """How much the charge can rise in one hour at full power (kWh)."""
        return self.max_charge_kw * self.leg

    @property
    def discharge_per_hour(self) -> float:
        """How much the charge can fall in one hour at full power (kWh)."""
        return self.max_discharge_kw / self.leg


@dataclass(frozen=True)
class State:
    """What a battery holds and does at one moment."""

    soc_kwh: float
    mode: str = IDLE
    power_kw: float = 0.0


def deliverable_kwh(limits: Limits, soc_kwh: float) -> float:
    """What a battery holding ``soc_kwh`` can deliver before its minimum charge:
    the charge above the minimum, less what discharging loses (√η)."""
    return max(0.0, soc_kwh - limits.soc_min_kwh) * limits.leg


def soc_fraction(limits: Limits, soc_kwh: float) -> float:
    """The charge as a fraction of the whole capacity."""
    return soc_kwh / limits.capacity_kwh


def evolve(limits: Limits, state: State, hours: float) -> State:
    """The state ``hours`` after ``state``: the charge moved at the commanded
    power, until it reached a bound, where the battery stopped (idle)."""
    if state.mode == IDLE or hours <= 0:
        return state
    if state.mode == CHARGING:
        soc = state.soc_kwh + state.power_kw * limits.leg * hours
        if soc >= limits.soc_max_kwh - TOLERANCE:
            return State(limits.soc_max_kwh)
    else:
        soc = state.soc_kwh - state.power_kw / limits.leg * hours
        if soc <= limits.soc_min_kwh + TOLERANCE:
            return State(limits.soc_min_kwh)
    return State(soc, state.mode, state.power_kw)


def state_at(
    limits: Limits, recorded: State, recorded_at: datetime, now: datetime
) -> State:
    """The state at ``now`` of a battery whose state was ``recorded`` at
    ``recorded_at``."""
    return evolve(limits, recorded, (now - recorded_at).total_seconds() / 3600)


def hours_to_bound(limits: Limits, state: State) -> float | None:
    """How long a moving battery takes to reach its bound, where it stops; None
    for an idle one."""
    if state.mode == CHARGING:
        room = limits.soc_max_kwh - state.soc_kwh
        return max(0.0, room / (state.power_kw * limits.leg))
    if state.mode == DISCHARGING:
        left = state.soc_kwh - limits.soc_min_kwh
        return max(0.0, left * limits.leg / state.power_kw)
    return None


def stopped_at(limits: Limits, recorded: State, recorded_at: datetime) -> datetime:
    """When a battery recorded moving at ``recorded_at`` reached its bound."""
    return recorded_at + timedelta(hours=hours_to_bound(limits, recorded))


def command(
    limits: Limits, state: State, action: str, power_kw: float | None = None
) -> State:
    """The state once ``action`` is commanded to a battery now in ``state``.

    Charging and discharging take a power above 0 and at most the battery's
    maximum; a full battery does not charge, an empty one does not discharge.
    """
    if action == IDLE:
        return State(state.soc_kwh)
    limit = limits.max_charge_kw if action == CHARGE else limits.max_discharge_kw
    if power_kw is None or not 0 < power_kw <= limit:
        raise CommandRefused.power_out_of_range(action, limit)
    if action == CHARGE and state.soc_kwh >= limits.soc_max_kwh - TOLERANCE:
        raise CommandRefused.full()
    if action == DISCHARGE and state.soc_kwh <= limits.soc_min_kwh + TOLERANCE:
        raise CommandRefused.empty()
    return State(state.soc_kwh, MODE_OF[action], power_kw)
