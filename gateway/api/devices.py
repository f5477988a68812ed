"""Devices: a household's meters, appliances, heat pumps, chargers, PV and batteries,
each device's own broker login, and the commands sent to it."""

from gateway.route import SIGNED_IN, Route
from gateway.schemas import ErrorSchema
from services.devices.schemas import (
    CommandTypeSchema,
    DeviceCommandHistorySchema,
    DeviceCommandListQuerySchema,
    DeviceCommandRequestSchema,
    DeviceCommandSchema,
    DeviceCreateSchema,
    DeviceCredentialsSchema,
    DeviceListQuerySchema,
    DeviceSchema,
    DeviceUpdateSchema,
)

ROUTES = (
    Route(
        "GET",
        "/api/command-types",
        SIGNED_IN,
        "devices.command_types",
        tag="devices",
        summary="The command types devices take",
        description=(
            "The catalogue of commands (``services/devices/commands.py``), read "
            "only: each type, the device kinds that take it (``null``: every "
            "kind) and its parameters, each with its type (``boolean`` or "
            "``number``), bounds, unit and, where 0 means off, the least other "
            "value (``min_nonzero``). ``POST /api/devices/{id}/commands`` "
            "validates with the same schemas, so a form built from this answer "
            "asks for what the route takes."
        ),
        returns=[CommandTypeSchema],
        returns_description="every command type",
        example=[
            {
                "type": "curtail",
                "description": "produce at most a share of the peak, 0–100 %",
                "kinds": ["pv"],
                "params": [
                    {
                        "name": "max_percent",
                        "type": "number",
                        "required": True,
                        "description": "the most the PV may produce, in % of its peak",
                        "unit": "%",
                        "min": 0,
                        "max": 100,
                        "min_nonzero": None,
                    }
                ],
            }
        ],
    ),
    Route(
        "POST",
        "/api/devices",
        SIGNED_IN,
        "devices.create_device",
        tag="devices",
        summary="Add a device",
        description=(
            "Add a device. ADMIN may add one for another user with ``user_id``. "
            "It goes to ``site_id`` (a site the caller may change: its owner or "
            "operator, or ADMIN) and, with ``room_id``, into one of that site's "
            "rooms; without ``site_id``, to its owner's default site."
        ),
        body=DeviceCreateSchema,
        status=201,
        returns=DeviceSchema,
        returns_description="the device",
        example_body={
            "name": "Kitchen",
            "kind": "appliance",
            "max_hourly_kwh": 0.5,
            "reading_interval_s": 60,
        },
        errors={
            403: "Forbidden",
            404: "NotFound",
            409: {
                "description": "the owner already has as many devices as a user may "
                "(`EMS_MAX_DEVICES_PER_USER`; `details.limit`)",
                "content": {
                    "application/json": {
                        "schema": ErrorSchema,
                        "example": {
                            "error": "CONFLICT",
                            "details": {"limit": 100},
                            "message": "a user may "
                            "own at most "
                            "100 devices; "
                            "delete one "
                            "first",
                        },
                    }
                },
            },
        },
    ),
    Route(
        "DELETE",
        "/api/devices/<string:device_id>",
        SIGNED_IN,
        "devices.delete_device",
        tag="devices",
        summary="Delete a device",
        description=("Delete a device."),
        status=204,
        returns_description="deleted",
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/devices/<string:device_id>",
        SIGNED_IN,
        "devices.get_device",
        tag="devices",
        summary="Get a device",
        description=(
            "One device: its owner's, the members' of its site, or anyone's for "
            "ADMIN, OPERATOR and VIEWER."
        ),
        returns=DeviceSchema,
        returns_description="the device",
    ),
    Route(
        "POST",
        "/api/devices/<string:device_id>/credentials",
        SIGNED_IN,
        "devices.issue_credentials",
        tag="devices",
        summary="Issue or rotate a device's credentials",
        description=(
            "New broker credentials for a device (owner or ADMIN). The password is "
            "shown only in this answer; each call replaces the previous one, and "
            "connections made with it are closed. With them the device publishes "
            "its readings over MQTT (QoS 1, client id = user name) or AMQP, "
            "receives its commands and answers them, and nothing else."
        ),
        status=201,
        returns=DeviceCredentialsSchema,
        returns_description="the device's new login",
        example={
            "device_id": "7a2e…",
            "username": "ems-device-7a2e…",
            "password": "kq3…",
            "mqtt": {
                "client_id": "ems-device-7a2e…",
                "username": "ems-device-7a2e…",
                "port": 1884,
                "publish_topic": "ems/devices/7a2e…/reading",
                "command_topic": "ems/devices/7a2e…/commands",
                "ack_topic": "ems/devices/7a2e…/acks",
            },
            "amqp": {
                "vhost": "/",
                "exchange": "ems.data",
                "routing_key": "device.7a2e….reading",
                "command_queue": "device.7a2e….commands",
                "command_routing_key": "ems.devices.7a2e….commands",
                "ack_routing_key": "ems.devices.7a2e….acks",
            },
        },
        errors={503: {"description": "the broker cannot be reached; try again"}},
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/devices",
        SIGNED_IN,
        "devices.list_devices",
        tag="devices",
        summary="List devices",
        description=(
            "The caller's devices and those of the sites they are a member of; "
            "every device for ADMIN, OPERATOR and VIEWER. ``site_id`` and "
            "``room_id`` keep one site's or one room's."
        ),
        query=DeviceListQuerySchema,
        returns=[DeviceSchema],
        returns_description="the devices, oldest first",
        example=[
            {
                "id": "7a2e…",
                "user_id": "9b2f…",
                "name": "Kitchen",
                "kind": "appliance",
                "max_hourly_kwh": 0.5,
                "reading_interval_s": 60,
                "site_id": "5c0e…",
                "room_id": None,
            }
        ],
    ),
    Route(
        "PATCH",
        "/api/devices/<string:device_id>",
        SIGNED_IN,
        "devices.update_device",
        tag="devices",
        summary="Update a device",
        description=(
            "Rename a device, change its kind, its hourly limit, its reading "
            "interval or its location (latitude and longitude together; null "
            "both to remove it); move it to another site (one the caller may "
            "change; it leaves its room unless given one there) or room "
            "(``room_id``, null for none). The kind cannot "
            "change while the device has open sell orders or trades not settled yet "
            "(409): they were accepted for what the device was."
        ),
        body=DeviceUpdateSchema,
        returns=DeviceSchema,
        returns_description="the device",
        example_body={"max_hourly_kwh": 0.8},
        errors={409: "Conflict"},
    ),
    Route(
        "POST",
        "/api/devices/<string:device_id>/commands",
        SIGNED_IN,
        "devices.send_command",
        tag="devices",
        summary="Send a device a command",
        description=(
            "Send a command to a device (its owner, its site's owners and "
            "operators, OPERATOR or ADMIN). The answer "
            "is `202`: the command is stored and on its way. It reaches the device "
            "on MQTT `ems/devices/{id}/commands` (QoS 1) or its AMQP queue "
            "`device.{id}.commands` as `{command_id, type, params, expires_at}`, "
            "and the device answers on `ems/devices/{id}/acks` with `{command_id, "
            'status: "ok" | "rejected", detail}`. `status` moves from `pending` '
            "to `delivered` once the broker holds it in a queue of the device's "
            "(not yet read by the device), then to `acked` or `rejected` by the "
            "device's answer, or to `expired` when none came within `ttl_s`. Each "
            "change is pushed over `/ws` as `command.updated`. A type the device's "
            "kind does not take, or bad `params`, is 400 naming the fields."
        ),
        body=DeviceCommandRequestSchema,
        status=202,
        returns=DeviceCommandSchema,
        returns_description="the command, as it stands",
        example_body={"type": "switch", "params": {"on": True}, "ttl_s": 60},
        example={
            "id": "c41d…",
            "device_id": "7a2e…",
            "type": "switch",
            "params": {"on": True},
            "status": "delivered",
            "created_at": "2026-11-22T18:00:00Z",
            "created_by": "9b2f…",
            "expires_at": "2026-11-22T18:01:00Z",
            "updated_at": "2026-11-22T18:00:00Z",
            "detail": None,
        },
        errors={
            400: {
                "description": "an unknown type, one the device's kind does not "
                "take, or bad parameters",
                "content": {
                    "application/json": {
                        "schema": ErrorSchema,
                        "example": {
                            "error": "VALIDATION_ERROR",
                            "message": "invalid request",
                            "details": {"params": {"on": ["Not a valid boolean."]}},
                        },
                    }
                },
            },
        },
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/devices/<string:device_id>/commands",
        SIGNED_IN,
        "devices.list_commands",
        tag="devices",
        summary="List a device's commands",
        description=(
            "A device's latest commands, newest first, each with its history of "
            "statuses (its owner, OPERATOR or ADMIN)."
        ),
        query=DeviceCommandListQuerySchema,
        returns=[DeviceCommandHistorySchema],
        returns_description="the commands, newest first",
        example=[
            {
                "id": "c41d…",
                "device_id": "7a2e…",
                "type": "switch",
                "params": {"on": True},
                "status": "acked",
                "created_at": "2026-11-22T18:00:00Z",
                "created_by": "9b2f…",
                "expires_at": "2026-11-22T18:01:00Z",
                "updated_at": "2026-11-22T18:00:01Z",
                "detail": "switched on",
                "history": [
                    {"status": "pending", "detail": None, "at": "2026-11-22T18:00:00Z"},
                    {
                        "status": "delivered",
                        "detail": None,
                        "at": "2026-11-22T18:00:00Z",
                    },
                    {
                        "status": "acked",
                        "detail": "switched on",
                        "at": "2026-11-22T18:00:01Z",
                    },
                ],
            }
        ],
    ),
)
