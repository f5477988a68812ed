"""The OpenAPI document describes every route the gateway serves."""

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from openapi_spec_validator import validate

from gateway.openapi import build_spec, openapi_path
from gateway.service import GatewayService

PUBLIC = {
    ("/api/auth/register", "post"),
    ("/api/auth/login", "post"),
    ("/api/auth/password-reset", "post"),
    ("/api/auth/password-reset/confirm", "post"),
    ("/api/auth/email/confirm", "post"),
    ("/api/auth/verification/resend", "post"),
    ("/api/health", "get"),
    ("/api/openapi.json", "get"),
}


def served_routes():
    for name in dir(GatewayService):
        for entrypoint in getattr(
            getattr(GatewayService, name), ENTRYPOINT_EXTENSIONS_ATTR, ()
        ):
            yield openapi_path(entrypoint.url), entrypoint.method.lower()


def test_the_document_is_valid_openapi():
    validate(build_spec(GatewayService))


def test_every_route_is_documented():
    paths = build_spec(GatewayService)["paths"]
    for path, method in served_routes():
        assert method in paths.get(path, {}), f"{method} {path} is not documented"


def test_only_public_routes_waive_the_token():
    paths = build_spec(GatewayService)["paths"]
    for path, method in served_routes():
        waived = paths[path][method].get("security") == []
        assert waived == ((path, method) in PUBLIC), (path, method)


def test_request_bodies_name_their_schemas():
    operation = build_spec(GatewayService)["paths"]["/api/devices"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/DeviceCreate"}


def test_path_parameters_use_openapi_syntax():
    assert openapi_path("/api/users/<string:user_id>") == "/api/users/{user_id}"


def test_quotas_are_documented_on_the_routes_that_enforce_them():
    paths = build_spec(GatewayService)["paths"]
    for path, code, error in (
        ("/api/devices", "409", "CONFLICT"),
        ("/api/trading/orders", "409", "CONFLICT"),
        ("/api/support/messages", "429", "RATE_LIMITED"),
    ):
        response = paths[path]["post"]["responses"][code]
        example = response["content"]["application/json"]["example"]
        assert example["error"] == error and "limit" in example["details"]
    support = paths["/api/support/messages"]["post"]["responses"]["429"]
    assert "Retry-After" in support["headers"]


def test_operations_with_a_body_say_it_may_be_too_large():
    paths = build_spec(GatewayService)["paths"]
    login = paths["/api/auth/login"]["post"]["responses"]
    assert login["413"] == {"$ref": "#/components/responses/PayloadTooLarge"}
    assert "413" not in paths["/api/health"]["get"]["responses"]
