"""A route of the public API as a row: method, path, who may call it, the RPC it
forwards to, and what the OpenAPI document says of it.

The gateway does nothing else with a request: it checks the caller's token, parses
the body as JSON within the shape limits (``gateway/requests.py``), and forwards
the path's values, the body and the query to ``<service>.<method>`` over RPC. The
service validates with its own schemas and decides what the caller may do
(``services/<name>/policies.py``).

A forwarded call passes, as keyword arguments:

- ``caller``: ``{"user_id", "role"}`` from the verified token (not on public routes);
- each value of the path, under its name (``device_id``);
- ``body``: the parsed JSON body, on routes that declare one;
- ``query``: the query string as a dict, on routes that declare one;
- ``client``: the client's address, on routes that throttle per client and on
  those whose service records the call in the audit log;
- ``token``: the bearer token itself, on the route that ends its session.

The RPC's result is the response's body; ``None`` answers ``204``.
"""

import re
from dataclasses import dataclass, field
from typing import Any

#: ``<device_id>`` in a path: werkzeug's syntax, always a string.
PATH_VALUE = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


@dataclass(frozen=True)
class Access:
    """Who may call a route. ``roles`` empty: any signed-in caller.

    A role gate here is the edge's first answer (403 before any service is asked);
    the service behind the route decides again, and alone decides about objects.
    """

    public: bool = False
    roles: tuple[str, ...] = ()

    def admits(self, caller: dict) -> bool:
        return not self.roles or caller["role"] in self.roles


#: No token needed.
PUBLIC = Access(public=True)
#: Any signed-in caller; the service decides what they may see.
SIGNED_IN = Access()


def only(*roles: str) -> Access:
    """Signed-in callers of these roles; 403 for the others."""
    return Access(roles=tuple(roles))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    access: Access
    #: ``"<service>.<method>"``, or ``"gateway.<method>"`` for the gateway's own.
    rpc: str
    #: The OpenAPI operation: its tag, summary and description.
    tag: str
    summary: str
    description: str = ""
    #: The service's input schema of the body (documents it; the service loads it).
    body: type | None = None
    #: The service's schema of the query string.
    query: type | None = None
    status: int = 200
    #: The success response's schema: a schema name, or ``[name]`` for an array.
    returns: str | list | None = None
    #: What the success response describes, and an example of it.
    returns_description: str = ""
    example: Any = None
    #: An example request body.
    example_body: Any = None
    #: Error responses by status: a component name (``"NotFound"``) or a whole
    #: response object for one that needs its own description or example.
    errors: dict = field(default_factory=dict)
    #: Extra values the call passes: ``"client"``, ``"token"``, ``"user_agent"``.
    passes: tuple[str, ...] = ()

    @property
    def service(self) -> str:
        return self.rpc.partition(".")[0]

    @property
    def method_name(self) -> str:
        return self.rpc.partition(".")[2]

    @property
    def operation_id(self) -> str:
        """``devices_get_device``: names the gateway's entrypoint and the operation."""
        return self.rpc.replace(".", "_")

    @property
    def path_values(self) -> list[str]:
        return PATH_VALUE.findall(self.path)

    @property
    def openapi_path(self) -> str:
        return PATH_VALUE.sub(r"{\1}", self.path)
