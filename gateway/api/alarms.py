"""Alarms, the rules that raise them, and how each user is told of them."""

from gateway.route import SIGNED_IN, Route
from services.alarms.schemas import (
    AlarmActionSchema,
    AlarmPageSchema,
    AlarmQuerySchema,
    AlarmSchema,
    AlarmSummarySchema,
    PreferencesSchema,
    RuleCreateSchema,
    RuleQuerySchema,
    RuleSchema,
    RuleUpdateSchema,
)

WHO = (
    "An alarm is seen by its device's owner and its site's members, and by ADMIN, "
    "OPERATOR and VIEWER; it is acknowledged and cleared by its owner, the site's "
    "owners and operators, OPERATOR and ADMIN. One out of reach is 404."
)
ALARM_EXAMPLE = {
    "id": "a1c3…",
    "type": "energy_over",
    "severity": "major",
    "originator": {"type": "device", "id": "7a2e…", "name": "Heat pump"},
    "device_id": "7a2e…",
    "site_id": "5c0e…",
    "rule_id": "0f9d…",
    "status": "active",
    "acknowledged": False,
    "started_at": "2026-12-02T14:41:10Z",
    "ended_at": None,
    "updated_at": "2026-12-02T14:41:10Z",
    "value": 3.2,
    "threshold": 2.0,
    "unit": "kWh",
    "message": "Heat pump used 3.2 kWh in the hour from 14:00 UTC, over its 2 kWh "
    "limit",
    "acknowledged_by": None,
    "acknowledged_at": None,
    "cleared_by": None,
    "comment": None,
    "permissions": {"acknowledge": True, "clear": True},
}
RULE_EXAMPLE = {
    "id": "0f9d…",
    "name": "Heat pump left on",
    "type": "power_over",
    "severity": "minor",
    "enabled": True,
    "device_id": "7a2e…",
    "room_id": None,
    "site_id": None,
    "kind": None,
    "threshold": 2500.0,
    "duration_min": 30,
    "device_limit": False,
    "created_at": "2026-12-02T08:00:00Z",
    "updated_at": "2026-12-02T08:00:00Z",
    "permissions": {"update": True, "delete": True},
}
PREFERENCES_EXAMPLE = {
    "app_severities": ["critical", "major", "minor", "warning"],
    "email_severities": ["critical", "major"],
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "digest": {"enabled": True, "hour": 8},
}
ONE_ALARM = "/api/alarms/<string:alarm_id>"
ONE_RULE = "/api/alarm-rules/<string:rule_id>"

ROUTES = (
    Route(
        "GET",
        "/api/alarms",
        SIGNED_IN,
        "alarms.list_alarms",
        tag="alarms",
        summary="List alarms",
        description=(
            "Alarms newest first, filtered by ``status`` (``any``, ``active``, "
            "``cleared``, ``ack``: acknowledged, ``unack``: active and not "
            "acknowledged), ``severity`` (comma-separated), "
            "``site_id``, ``device_id`` and ``type``; a page of ``limit``, the next "
            f"with ``before`` = ``next``. {WHO}"
        ),
        query=AlarmQuerySchema,
        returns=AlarmPageSchema,
        returns_description="a page of alarms",
        example={"alarms": [ALARM_EXAMPLE], "next": None},
    ),
    Route(
        "GET",
        "/api/alarms/summary",
        SIGNED_IN,
        "alarms.alarm_summary",
        tag="alarms",
        summary="Count active alarms",
        description="The active alarms the caller may see, by severity, and how "
        "many nobody acknowledged.",
        returns=AlarmSummarySchema,
        returns_description="the counts",
        example={
            "active": 2,
            "unacknowledged": 1,
            "by_severity": {"critical": 0, "major": 1, "minor": 1, "warning": 0},
        },
    ),
    Route(
        "POST",
        f"{ONE_ALARM}/ack",
        SIGNED_IN,
        "alarms.acknowledge_alarm",
        tag="alarms",
        summary="Acknowledge an alarm",
        description=(
            "Someone is on it: the alarm is acknowledged, with an optional comment. "
            f"Acknowledging it again changes nothing. {WHO}"
        ),
        body=AlarmActionSchema,
        returns=AlarmSchema,
        returns_description="the alarm",
        example_body={"comment": "Turned the heat pump down"},
        example=ALARM_EXAMPLE,
        passes=("client",),
    ),
    Route(
        "POST",
        f"{ONE_ALARM}/clear",
        SIGNED_IN,
        "alarms.clear_alarm",
        tag="alarms",
        summary="Clear an alarm",
        description=(
            "End an active alarm by hand, with an optional comment. While its "
            "condition still holds, no new alarm of its type is raised on its "
            f"device or site; once it ends, the rule watches again. {WHO}"
        ),
        body=AlarmActionSchema,
        returns=AlarmSchema,
        returns_description="the alarm",
        example_body={"comment": "Expected: the sauna is on"},
        example=ALARM_EXAMPLE | {"status": "cleared"},
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/alarm-rules",
        SIGNED_IN,
        "alarms.list_rules",
        tag="alarms",
        summary="List alarm rules",
        description=(
            "With ``device_id``, the rules that apply to the device (its own, its "
            "room's, its site's and its kind's); with ``site_id``, the site's rules "
            "(on the site, its rooms and devices); without, the rules the caller "
            "made (every rule for ADMIN, OPERATOR and VIEWER). Each device has a "
            "rule of its own hourly limit, ``device_limit``, whose threshold is "
            "its ``max_hourly_kwh``."
        ),
        query=RuleQuerySchema,
        returns=[RuleSchema],
        returns_description="the rules, oldest first",
        example=[RULE_EXAMPLE],
    ),
    Route(
        "POST",
        "/api/alarm-rules",
        SIGNED_IN,
        "alarms.create_rule",
        tag="alarms",
        summary="Add an alarm rule",
        description=(
            "A rule on a device (``device_id``), a room (``room_id``), a site "
            "(``site_id``, with ``kind`` only its devices of that kind) or, for "
            "OPERATOR and ADMIN, every device of a ``kind``. Types: "
            "``energy_over`` (kWh in a UTC hour; on a whole site, the site's "
            "total), ``power_over`` (W for ``duration_min``), ``offline`` and "
            "``no_reading`` (``duration_min``), ``generation_below_forecast`` (% "
            "below a PV device's forecast in its last whole hour), ``soc_below`` "
            "(% of a battery's capacity). Its alarm clears when the condition "
            "ends. Made by the device's owner, the site's owners and operators, "
            "and ADMIN."
        ),
        body=RuleCreateSchema,
        status=201,
        returns=RuleSchema,
        returns_description="the rule",
        example_body={
            "name": "Heat pump left on",
            "type": "power_over",
            "device_id": "7a2e…",
            "threshold": 2500,
            "duration_min": 30,
            "severity": "minor",
        },
        example=RULE_EXAMPLE,
    ),
    Route(
        "PATCH",
        ONE_RULE,
        SIGNED_IN,
        "alarms.update_rule",
        tag="alarms",
        summary="Update an alarm rule",
        description=(
            "Change a rule's name, severity, whether it is enabled, its threshold "
            "or duration (not where it applies nor its type). A device's own limit "
            "rule takes its threshold from the device: 400 here."
        ),
        body=RuleUpdateSchema,
        returns=RuleSchema,
        returns_description="the rule",
        example_body={"severity": "major", "enabled": False},
        example=RULE_EXAMPLE,
    ),
    Route(
        "DELETE",
        ONE_RULE,
        SIGNED_IN,
        "alarms.delete_rule",
        tag="alarms",
        summary="Delete an alarm rule",
        description=(
            "The rule goes; the alarms it alone watched clear in the next round. "
            "A device's own limit rule goes with the device (409): disable it "
            "instead."
        ),
        status=204,
    ),
    Route(
        "GET",
        "/api/notification-preferences",
        SIGNED_IN,
        "alarms.get_preferences",
        tag="alarms",
        summary="Get notification preferences",
        description=(
            "Which alarm severities reach the caller in the app and by e-mail, "
            "quiet hours (on the account's clock; e-mail waits until they end) "
            "and the daily digest's hour."
        ),
        returns=PreferencesSchema,
        returns_description="the preferences",
        example=PREFERENCES_EXAMPLE,
    ),
    Route(
        "PUT",
        "/api/notification-preferences",
        SIGNED_IN,
        "alarms.put_preferences",
        tag="alarms",
        summary="Set notification preferences",
        description="Replace the caller's notification preferences.",
        body=PreferencesSchema,
        returns=PreferencesSchema,
        returns_description="the preferences",
        example_body=PREFERENCES_EXAMPLE,
        example=PREFERENCES_EXAMPLE,
    ),
)
