"""What a DR event asks of its participants' devices: the command each flexible
device is sent when the event starts, and the one that releases it when the event
ends or is cancelled. Pure: devices and batteries come in as the devices and
batteries services describe them, commands go out as ``(type, params)`` for
``devices.issue_command``.

At the start, a battery discharges as fast as it can hold through the window
(``logic.discharge_headroom_kw``, within the catalogue's ±``MAX_BATTERY_KW``), an
EV charger pauses (``ev_current`` 0 A) and a switchable load is switched off. At
the release a battery holds (setpoint 0: in auto mode its plan takes over again),
and a charger or a load is given back what it was last set to before the event (a
load that was off stays off); one never set gets ``EV_RESUME_AMPS``, or is
switched on.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.devices.commands import (
    BATTERY_SETPOINT,
    EV_CURRENT,
    MAX_BATTERY_KW,
    MIN_EV_AMPS,
    SWITCH,
)
from services.dr.logic import HOUR, Battery, discharge_headroom_kw

#: The two moments an event acts on devices.
START = "start"
END = "end"
PHASES = (START, END)

#: A command's status in dr before devices answered (``failed``: devices refused
#: to issue it, e.g. the device was deleted or no longer takes it).
FAILED = "failed"
#: Command statuses that no longer change (the devices service's, and ``failed``).
FINAL_STATUSES = frozenset({"acked", "rejected", "expired", FAILED})
#: Every status a dispatch can show.
STATUSES = ("pending", "delivered", "acked", "rejected", "expired", FAILED)

#: Seconds a dispatch command waits for its device before it expires.
COMMAND_TTL_S = 300
#: The charging current a paused EV charger is given back when the event ends, if
#: it was never set before: the least current to charge at is one every charger
#: takes (a larger default would be refused by a smaller charger).
EV_RESUME_AMPS = MIN_EV_AMPS
#: Battery powers are sent to the watt.
KW_PLACES = Decimal("0.001")


@dataclass(frozen=True)
class Command:
    """A command for one device of one participant."""

    user_id: str
    device_id: str
    type: str
    params: dict


def discharge_kw(battery: Battery, start: datetime, end: datetime) -> float:
    """The power a battery is asked to discharge at, positive, in kW: what it can
    hold through the window, at most ``MAX_BATTERY_KW``; 0 if nothing."""
    hours = Decimal((end - start) / HOUR).max(Decimal(1) / 3600)
    power = min(discharge_headroom_kw(battery, hours), Decimal(str(MAX_BATTERY_KW)))
    return float(power.quantize(KW_PLACES))


def start_command(device: dict, battery: Battery | None, start, end):
    """``(type, params)`` for ``device`` (``{id, user_id, kind}``) at the start of
    the window ``start``–``end``, or None when it has nothing to give: a meter, a
    PV system, a battery the batteries service does not know or that is empty."""
    kind = device["kind"]
    if BATTERY_SETPOINT.accepts(kind):
        power = discharge_kw(battery, start, end) if battery is not None else 0.0
        if power <= 0:
            return None
        return BATTERY_SETPOINT.name, {"power_kw": -power}
    if EV_CURRENT.accepts(kind):
        return EV_CURRENT.name, {"amps": 0.0}
    if SWITCH.accepts(kind):
        return SWITCH.name, {"on": False}
    return None


def start_commands(
    devices: list[dict], batteries: list[Battery], start: datetime, end: datetime
) -> list[Command]:
    """The commands for the participants' ``devices`` at an event's start;
    ``batteries`` (with their ``device_id``) give the batteries' limits."""
    by_device = {b.device_id: b for b in batteries if b.device_id is not None}
    commands = []
    for device in devices:
        chosen = start_command(device, by_device.get(device["id"]), start, end)
        if chosen is not None:
            commands.append(Command(device["user_id"], device["id"], *chosen))
    return commands


def release_command(type_name: str, before: dict | None = None) -> tuple[str, dict]:
    """What undoes a start command of ``type_name``: ``before`` is what the
    device was last set to by a command of that type (its params), if ever."""
    if type_name == BATTERY_SETPOINT.name:
        return BATTERY_SETPOINT.name, {"power_kw": 0.0}
    if type_name == EV_CURRENT.name:
        return EV_CURRENT.name, before or {"amps": EV_RESUME_AMPS}
    if type_name == SWITCH.name:
        return SWITCH.name, before or {"on": True}
    raise ValueError(f"no release for a {type_name} command")


def issuer(event_id: str) -> str:
    """``created_by`` of an event's commands in the devices service."""
    return f"dr:{event_id}"
