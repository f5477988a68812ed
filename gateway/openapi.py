"""The OpenAPI 3 document, built from the gateway's routes and marshmallow schemas.

Each route's docstring carries its operation in YAML after a ``---`` line; schemas
are named there and resolved from marshmallow's registry by apispec. Every
operation that takes a body may also answer 413, so that response is added here.
"""

import re
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.yaml_utils import load_operations_from_docstring
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

import gateway.schemas  # noqa: F401 - registers the gateway's schemas by name
import services.devices.schemas  # noqa: F401
import services.monitoring.schemas  # noqa: F401
import services.support.schemas  # noqa: F401
import services.users.schemas  # noqa: F401
from services.common.http import JsonRequestHandler

WERKZEUG_PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")

ERROR_RESPONSES = {
    "BadRequest": "invalid input; `details` names each bad field",
    "Unauthorized": "missing, invalid, expired or revoked token, or bad credentials",
    "Forbidden": "the caller's role may not do this",
    "NotFound": "no such object, or not the caller's",
    "Conflict": "conflicts with the current state",
    "PayloadTooLarge": "the body is over the size limit (1 MiB unless configured)",
    "TooManyRequests": "rate limited; see Retry-After",
}


def openapi_path(url: str) -> str:
    return WERKZEUG_PARAMETER.sub(r"{\1}", url)


def routes(service_class):
    """``(url, docstring)`` of each HTTP entrypoint of ``service_class``."""
    for name in sorted(dir(service_class)):
        method = getattr(service_class, name)
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, JsonRequestHandler):
                yield entrypoint.url, method.__doc__ or ""


@cache
def build_spec(service_class) -> dict:
    spec = APISpec(
        title="EMS API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Energy management platform. Errors are always "
            "`{error, message, details}`."
        },
        security=[{"bearerAuth": []}],
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    for name, description in ERROR_RESPONSES.items():
        spec.components.response(
            name,
            {
                "description": description,
                "content": {"application/json": {"schema": "ErrorSchema"}},
            },
        )
    for name in ("user_id", "device_id", "dead_letter_id"):
        spec.components.parameter(
            name.title().replace("_", ""),
            "path",
            {"name": name, "required": True, "schema": {"type": "string"}},
        )
    for url, docstring in routes(service_class):
        operations = load_operations_from_docstring(docstring)
        for operation in operations.values():
            if "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault(413, "PayloadTooLarge")
        spec.path(path=openapi_path(url), operations=operations)
    return spec.to_dict()
