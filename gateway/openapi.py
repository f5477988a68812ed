"""The OpenAPI 3 document, built from the route rows (``gateway/api/``) and the
services' marshmallow schemas.

A row says what is particular to its route; what follows from its shape is added
here: ``security: []`` on public routes, 401 on the others, 403 behind a role gate,
400 and 413 where there is a body, 400 where there is a query, 404 where the path
names an object.
"""

from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from gateway.route import PATH_VALUE, Route
from gateway.schemas import ErrorSchema

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
    return PATH_VALUE.sub(r"{\1}", url)


def _schema(returns):
    if isinstance(returns, list):
        return {"type": "array", "items": returns[0]}
    return returns


def _success(route: Route) -> dict:
    response = {"description": route.returns_description or "done"}
    if route.status == 204:
        return response
    content = {}
    if route.returns is not None:
        content["schema"] = _schema(route.returns)
    if route.example is not None:
        content["example"] = route.example
    if content:
        response["content"] = {"application/json": content}
    return response


def _errors(route: Route) -> dict:
    errors = {}
    if route.body is not None or route.query is not None:
        errors[400] = "BadRequest"
    if not route.access.public:
        errors[401] = "Unauthorized"
    if route.access.roles:
        errors[403] = "Forbidden"
    if route.path_values:
        errors[404] = "NotFound"
    if route.body is not None:
        errors[413] = "PayloadTooLarge"
    errors.update(route.errors)
    return dict(sorted(errors.items()))


def operation(route: Route) -> dict:
    operation = {
        "tags": [route.tag],
        "summary": route.summary,
        "operationId": route.operation_id,
    }
    if route.description:
        operation["description"] = route.description
    if route.access.public:
        operation["security"] = []
    parameters = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in route.path_values
    ]
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        content = {"schema": route.body}
        if route.example_body is not None:
            content["example"] = route.example_body
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": content},
        }
    operation["responses"] = {route.status: _success(route), **_errors(route)}
    return operation


@cache
def build_spec(service_class) -> dict:
    spec = APISpec(
        title="EMS API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Energy management platform. Errors are always "
            "`{error, message, details, request_id}`. Every response carries "
            "`X-Request-Id`: the request's id, the client's own if it sent a "
            "usable one (1 to 128 of `A-Z a-z 0-9 . _ : @ / + = -`), which the "
            "platform's logs and the pushes the request causes carry too."
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
                "content": {"application/json": {"schema": ErrorSchema}},
            },
        )
    paths: dict[str, dict] = {}
    for route in service_class.routes:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation(
            route
        )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
