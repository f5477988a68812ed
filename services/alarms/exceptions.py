"""alarms' domain errors."""

from services.common.errors import Conflict, NotFound


class AlarmNotFound(NotFound):
    """Alarm not found."""


class RuleNotFound(NotFound):
    """Alarm rule not found."""


class RuleScopeNotFound(NotFound):
    """No such device, room or site."""


class DeviceLimitRule(Conflict):
    """This is a device's own hourly limit rule."""
