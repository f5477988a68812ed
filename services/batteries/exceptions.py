"""batteries' domain errors.

A refusal's ``details`` name the request's fields, as ``load()``'s do
(``{"target": {"soc_kwh": [...]}}``), so that a form shows each beside its field:
the constructors below are the one place those shapes are written.
"""

from services.common.errors import Conflict, NotFound, ValidationFailed


class BatteryNotFound(NotFound):
    """Battery not found."""


class BatteryExists(Conflict):
    """This device already has a battery."""


class CommandRefused(ValidationFailed):
    """The battery cannot do this."""

    @classmethod
    def power_out_of_range(cls, action: str, limit_kw: float) -> "CommandRefused":
        return cls(
            f"{action} power out of range",
            {"power_kw": [f"above 0 and at most {limit_kw:g} kW for this battery"]},
        )

    @classmethod
    def full(cls) -> "CommandRefused":
        return cls(
            "the battery is full", {"action": ["the battery is full: it cannot charge"]}
        )

    @classmethod
    def empty(cls) -> "CommandRefused":
        return cls(
            "the battery is empty",
            {"action": ["the battery is empty: it cannot discharge"]},
        )


class InfeasibleSchedule(ValidationFailed):
    """No schedule meets every limit and the target."""

    @classmethod
    def above_maximum(cls, soc_max_kwh: float) -> "InfeasibleSchedule":
        return cls(
            "the target is above the battery's maximum charge",
            {"target": {"soc_kwh": [f"at most {soc_max_kwh:g} kWh"]}},
        )

    @classmethod
    def unreachable(
        cls, soc_kwh: float, hour_index: int, most_kwh: float, start_kwh: float
    ) -> "InfeasibleSchedule":
        """The target cannot be met: at most ``most_kwh`` can be held by then."""
        return cls(
            "the target cannot be reached",
            {
                "target": {
                    "soc_kwh": [
                        f"{soc_kwh:g} kWh cannot be stored by the end of hour "
                        f"{hour_index}: at most {most_kwh:g} kWh from "
                        f"{start_kwh:g} kWh"
                    ]
                }
            },
        )


def start_out_of_range(low_kwh: float, high_kwh: float) -> ValidationFailed:
    """A schedule's starting charge outside this battery's bounds."""
    return ValidationFailed(
        "invalid request",
        {
            "start_soc_kwh": [
                f"between {low_kwh:g} and {high_kwh:g} kWh for this battery"
            ]
        },
    )


def target_hour_out_of_range(hours: int) -> ValidationFailed:
    """A schedule's target in an hour the schedule does not cover."""
    return ValidationFailed(
        "invalid request",
        {"target": {"hour_index": [f"between 0 and {hours - 1}"]}},
    )
