"""What every route does with a request: read its JSON body, know its caller.

Routes live in ``gateway/service.py`` and, for the energy services, in one module
each (``gateway/batteries.py`` …) whose class the ``GatewayService`` inherits.
"""

import json

from services.common.errors import Forbidden, ValidationFailed
from services.common.rpc import TimedRpcProxy
from services.common.schemas import load
from services.common.tokens import bearer_token


def read_json(request, schema):
    """The request body, loaded with ``schema``; 400 with per-field details if bad."""
    try:
        body = json.loads(request.get_data(cache=False) or b"null")
    except ValueError as exc:
        raise ValidationFailed(
            "the body is not valid JSON", {"_schema": ["invalid JSON"]}
        ) from exc
    return load(schema, body)


def read_query(request, schema):
    """The query string, loaded with ``schema``."""
    return load(schema, request.args.to_dict())


def client_address(request) -> str:
    """The client's address as Traefik saw it (it overwrites X-Real-Ip)."""
    return request.headers.get("X-Real-Ip") or request.remote_addr or "unknown"


class Callers:
    """Base of every route class: who is calling."""

    auth_rpc = TimedRpcProxy("auth")

    def _caller(self, request, *roles):
        """The verified caller ``{user_id, role, …}``; 403 unless in ``roles``."""
        caller = self.auth_rpc.check(bearer_token(request.headers.get("Authorization")))
        if roles and caller["role"] not in roles:
            raise Forbidden()
        return caller
