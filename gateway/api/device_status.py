"""Devices' status: whether each is online, when it was last heard from, and the
newest power and state of charge it reported (``services/monitoring``, which keeps
them from the devices' readings and presence messages)."""

from gateway.route import SIGNED_IN, Route
from services.monitoring.schemas import DeviceStatusQuerySchema, DeviceStatusSchema

EXAMPLE = {
    "device_id": "7a2e…",
    "online": True,
    "since": "2026-11-22T07:58:12Z",
    "last_seen": "2026-11-22T10:15:00Z",
    "reading_interval_s": 60,
    "power_w": -1650.0,
    "power_at": "2026-11-22T10:15:00Z",
    "soc_kwh": 6.8,
    "soc_at": "2026-11-22T10:15:00Z",
}

ROUTES = (
    # Matched before ``/api/devices/{device_id}``: a path of fixed words wins over
    # one with a value in it (werkzeug's rule order), whatever order rows come in.
    Route(
        "GET",
        "/api/devices/status",
        SIGNED_IN,
        "monitoring.device_statuses",
        tag="devices",
        summary="Devices' status",
        description=(
            "Whether each of the caller's devices is online, when it was last heard "
            "from, and the newest power and state of charge it reported; every "
            "device's for ADMIN, OPERATOR and VIEWER, or one with ``device_id``. A "
            "device is offline once silent for more than a few of its reading "
            "intervals, or at once when its MQTT connection drops."
        ),
        query=DeviceStatusQuerySchema,
        returns=[DeviceStatusSchema],
        returns_description="one status per device, by device id",
        example=[EXAMPLE],
    ),
    Route(
        "GET",
        "/api/devices/<string:device_id>/status",
        SIGNED_IN,
        "monitoring.device_status",
        tag="devices",
        summary="A device's status",
        description=(
            "One device's status: its owner's, or any device's for ADMIN, OPERATOR "
            "and VIEWER."
        ),
        returns=DeviceStatusSchema,
        returns_description="the device's status",
        example=EXAMPLE,
        errors={404: "NotFound"},
    ),
)
