"""How the gateway serves a route row (``gateway/route.py``): one entrypoint per row,
each checking the caller and forwarding to the service that owns the route."""

from gateway.requests import client_address, parse_json
from gateway.route import Route
from services.common.errors import EXPECTED, Forbidden
from services.common.http import http, json_response
from services.common.identity import Vouching
from services.common.rpc import TimedRpcProxy
from services.common.tokens import bearer_token

#: The services the gateway forwards to or reports on. The list gives each its RPC
#: proxy (which knows the service's errors, ``services/common/rpc.py``), and
#: ``/api/health`` asks each.
SERVICES = (
    "auth",
    "users",
    "devices",
    "monitoring",
    "support",
    "batteries",
    "dr",
    "trading",
    "alarms",
    "mail",
    "audit",
)
#: Services whose calls may take longer than ``RPC_TIMEOUT``, and their setting.
TIMEOUT_SETTINGS = {"support": "SUPPORT_RPC_TIMEOUT"}


def proxies() -> dict:
    """``<service>_rpc`` for each service, as the gateway's class attributes."""
    return {
        f"{service}_rpc": TimedRpcProxy(
            service, timeout_setting=TIMEOUT_SETTINGS.get(service, "RPC_TIMEOUT")
        )
        for service in SERVICES
    }


def serve(routes):
    """Give the decorated service class an RPC proxy per service (``devices_rpc``),
    the check of the identities auth vouched for (``vouched``) and one ``http``
    entrypoint per route."""

    def decorate(cls):
        for attribute, proxy in proxies().items():
            setattr(cls, attribute, proxy)
        cls.vouched = Vouching(public=True)
        for route in routes:
            if route.service != "gateway" and route.service not in SERVICES:
                raise ValueError(f"{route.rpc}: {route.service} is not in SERVICES")
            if hasattr(cls, route.operation_id):
                raise ValueError(f"{route.operation_id} is served twice")
            setattr(cls, route.operation_id, _entrypoint(route))
        cls.routes = tuple(routes)
        return cls

    return decorate


def _entrypoint(route: Route):
    def handle(self, request, **path_values):
        return self.forward(route, request, path_values)

    handle.__name__ = route.operation_id
    handle.__doc__ = f"{route.method} {route.path}: {route.summary}"
    return http(route.method, route.path, expected_exceptions=EXPECTED)(handle)


class Forwarding:
    """What every route does: know the caller, forward, answer."""

    def caller(self, request) -> dict:
        """The verified caller ``{user_id, role}``: the identity auth vouched for
        when Traefik asked it, else (a request that did not come through Traefik)
        auth's answer now; 401 without a usable token."""
        vouched = self.vouched.caller(request.headers)
        if vouched is not None:
            return vouched
        identity = self.auth_rpc.check(
            bearer_token(request.headers.get("Authorization"))
        )
        return {"user_id": identity["user_id"], "role": identity["role"]}

    def forward(self, route: Route, request, path_values: dict):
        arguments = dict(path_values)
        if not route.access.public:
            caller = self.caller(request)
            if not route.access.admits(caller):
                raise Forbidden()
            arguments["caller"] = caller
        if route.body is not None:
            arguments["body"] = parse_json(request.get_data(cache=False))
        if route.query is not None:
            arguments["query"] = request.args.to_dict()
        if "client" in route.passes:
            arguments["client"] = client_address(request)
        if "user_agent" in route.passes:
            arguments["user_agent"] = request.headers.get("User-Agent", "")[:500]
        if "token" in route.passes:
            arguments["token"] = bearer_token(request.headers.get("Authorization"))
        if route.service == "gateway":
            target = self
        else:
            target = getattr(self, f"{route.service}_rpc")
        result = getattr(target, route.method_name)(**arguments)
        if result is None:
            return 204, ""
        if hasattr(result, "status_code"):  # the gateway's own routes answer fully
            return result
        return json_response(route.status, result)
