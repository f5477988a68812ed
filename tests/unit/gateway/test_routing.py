"""Which route serves a path, as the gateway's URL map (werkzeug's, which Nameko
builds from every ``http`` entrypoint) decides it."""

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from werkzeug.routing import Map

from gateway.service import GatewayService

DEVICE = "7a2e0000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def urls():
    url_map = Map()
    for name in dir(GatewayService):
        for entrypoint in getattr(
            getattr(GatewayService, name), ENTRYPOINT_EXTENSIONS_ATTR, ()
        ):
            rule = entrypoint.get_url_rule()
            rule.endpoint = name
            url_map.add(rule)
    return url_map.bind("localhost")


@pytest.mark.parametrize(
    ("method", "path", "operation", "values"),
    [
        ("GET", "/api/devices/status", "monitoring_device_statuses", {}),
        ("GET", f"/api/devices/{DEVICE}", "devices_get_device", {"device_id": DEVICE}),
        (
            "GET",
            f"/api/devices/{DEVICE}/status",
            "monitoring_device_status",
            {"device_id": DEVICE},
        ),
        ("GET", "/api/devices", "devices_list_devices", {}),
        # Other methods on the status path find no device of that id (404).
        (
            "PATCH",
            "/api/devices/status",
            "devices_update_device",
            {"device_id": "status"},
        ),
    ],
)
def test_the_devices_status_is_not_taken_for_a_device(
    urls, method, path, operation, values
):
    assert urls.match(path, method) == (operation, values)
