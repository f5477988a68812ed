"""What ``ems prepare`` sets up on RabbitMQ beyond declarations: the platform's own
users, one per kind of process, each allowed only the exchanges and queues that
process uses, in the platform's virtual host; and the bound of ``ems.dead``.

``guest`` (or whichever administrator ``RABBIT_MANAGEMENT_URI`` names) has no
permission in that virtual host: a process that reaches the broker with it, or a
device with its own credentials, cannot call the services' RPC or read their
events. ``ems prepare`` creates the users; each process finds its login in
``EMS_AMQP_URI_<NAME>`` (``var/broker.env``, which ``make up`` hands to every
process, or the environment of its container).

RabbitMQ checks ``configure`` to declare or delete an exchange or queue, ``write``
to publish to an exchange or bind a queue, ``read`` to consume a queue or bind from
an exchange. On a topic exchange, a user's topic permissions (``TOPICS``) also bound
the routing keys it may publish with (``write``) and bind with (``read``). Every
name comes from ``services.common.topology``: a queue or exchange that moves there
moves here.
"""

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import requests

from config.variables import BROKER_LOGINS
from services.common.amqp import vhost_of, with_login
from services.common.topology import (
    ACKS,
    BALANCER_RAW,
    COMMANDS,
    DATA,
    DLX,
    EVENT_EXCHANGES,
    EXCHANGES,
    INGEST_PREFIX,
    RPC,
    SERVER_NAMED_PREFIX,
    SERVICE_QUEUES,
    STATUS,
    WS,
    WS_GATEWAY_RPC,
    device_key,
    rpc_queue,
    rpc_reply_prefix,
)
from services.common.topology import DEAD as DEAD_QUEUE

TIMEOUT = 10
USER_PREFIX = "ems-"
#: The management API's tag for the one process that keeps devices' users.
ADMINISTRATOR = "administrator"


def _names(*names: str) -> str:
    """A regular expression alternative of exactly ``names``."""
    return "|".join(re.escape(name) for name in names)


def _starting(prefix: str) -> str:
    """Any name that starts with ``prefix`` and goes on."""
    return re.escape(prefix) + ".+"


def _any_device(key: str) -> str:
    """A routing key with ``*`` for a device id, as a regular expression."""
    return re.escape(key).replace(re.escape("*"), r"[^.]+")


ALL_EXCHANGES = _names(*(exchange.name for exchange in EXCHANGES))
#: What services publish: events, browser messages, rejects (not readings).
EVENTS = _names(*(exchange.name for exchange in EVENT_EXCHANGES))
DEAD = _names(DEAD_QUEUE.name)
INGEST = _starting(INGEST_PREFIX)
BALANCED = f"{_names(BALANCER_RAW.name)}|{INGEST}"
SERVER_NAMED = _starting(SERVER_NAMED_PREFIX)
WS_GATEWAY_REPLIES = _starting(rpc_reply_prefix("ws_gateway"))
#: The default exchange, as permissions name it.
DEFAULT_EXCHANGE = "amq.default"


def _rpc(service: str) -> str:
    """An RPC server's queue, and its replies as a caller."""
    return "|".join(
        [
            _names(RPC.name, rpc_queue(service).name),
            _starting(rpc_reply_prefix(service)),
        ]
    )


def _service(name: str, *extra: str) -> dict:
    """A Nameko service: RPC both ways, its own queues, events on the exchanges,
    rejects to ``ems.dlx``."""
    queues = [queue.name for queue in SERVICE_QUEUES.get(name, ())]
    own = "|".join([_rpc(name), *([_names(*queues)] if queues else []), DEAD, *extra])
    return {
        "configure": f"^({own}|{ALL_EXCHANGES})$",
        "write": f"^({own}|{EVENTS})$",
        "read": f"^({own}|{ALL_EXCHANGES})$",
    }


#: What each kind of process may do; the key is also its user's name after
#: ``ems-``, and the suffix of its ``EMS_AMQP_URI_<NAME>``.
PERMISSIONS = {
    "auth": _service("auth"),
    "users": _service("users"),
    # It sends devices their commands on ems.data (TOPICS: those keys only).
    "devices": _service("devices", _names(DATA.name)),
    # It drains ems.dead into its database, and replays readings to ems.data.
    "monitoring": _service("monitoring", _names(DATA.name)),
    "monitoring_worker": _service("monitoring_worker", INGEST),
    "support": _service("support"),
    "batteries": _service("batteries"),
    "dr": _service("dr"),
    "trading": _service("trading"),
    "gateway": _service("gateway"),
    # Reads mail.outbox and answers its health; publishes nothing but rejects.
    "mail": _service("mail"),
    # Reads alarms.sync; publishes pushes and e-mail.
    "alarms": _service("alarms"),
    # Reads audit.records; answers the audit log's listing.
    "audit": _service("audit"),
    # The ``ems`` commands that call the services (bootstrap, dead-letters).
    "command": _service("standalone_rpc_proxy"),
    # Consumes balancer.raw; publishes (default exchange) to the ingest queues.
    "balancer": {
        "configure": rf"^({BALANCED}|{DEAD}|{ALL_EXCHANGES})$",
        "write": rf"^(amq\.default|{BALANCED}|{DEAD}|{_names(DLX.name)})$",
        "read": rf"^({_names(BALANCER_RAW.name)}|{ALL_EXCHANGES})$",
    },
    # Its own server-named queue, bound to ems.ws; rejects to ems.dlx; the commands
    # its sockets send, called on devices over RPC (TOPICS: that call only), and
    # the queue of their answers.
    "ws_gateway": {
        "configure": rf"^({SERVER_NAMED}|{WS_GATEWAY_REPLIES}|{DEAD}|{ALL_EXCHANGES}"
        rf"|{_names(RPC.name)})$",
        "write": rf"^({SERVER_NAMED}|{WS_GATEWAY_REPLIES}|{DEAD}"
        rf"|{_names(DLX.name, RPC.name)})$",
        "read": rf"^({SERVER_NAMED}|{WS_GATEWAY_REPLIES}"
        rf"|{_names(WS.name, DLX.name, RPC.name)})$",
    },
    # Readings of devices given by id (``ems simulate --device``): ems.data only.
    "simulator": {
        "configure": f"^{_names(DATA.name)}$",
        "write": f"^{_names(DATA.name)}$",
        "read": "^$",
    },
    # ``ems prepare`` declares the exchanges and shared queues, and nothing else.
    "prepare": {
        "configure": rf"^({_names(BALANCER_RAW.name)}|{DEAD}|{ALL_EXCHANGES})$",
        "write": rf"^({_names(BALANCER_RAW.name)}|{DEAD})$",
        "read": rf"^({ALL_EXCHANGES})$",
    },
}
#: The routing keys a process may use on a topic exchange, where its resource
#: permissions would allow any: ``write`` publishing, ``read`` binding a queue.
TOPICS = {
    # Commands to devices, and no readings; its queues hear acks and presence.
    "devices": {
        "exchange": DATA.name,
        "write": f"^{_any_device(device_key('*', COMMANDS))}$",
        "read": f"^({_names(device_key('*', ACKS), device_key('*', STATUS))})$",
    },
    # One call (devices.send_command), and answers bound by the queue's own id:
    # not ``#``, which would hear every call and answer of the platform.
    "ws_gateway": {
        "exchange": RPC.name,
        "write": f"^{_names(WS_GATEWAY_RPC)}$",
        "read": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    },
}
#: Processes that manage other users: devices keeps each device's broker user.
TAGS = {"devices": ADMINISTRATOR}


def variable(name: str) -> str:
    """The environment variable that holds ``name``'s AMQP URI (``config``)."""
    return BROKER_LOGINS[name].name


@dataclass(frozen=True)
class Management:
    """The broker's management API, as the administrator ``uri`` names."""

    uri: str

    @property
    def api(self) -> str:
        parts = urlsplit(self.uri)
        return f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"

    @property
    def auth(self) -> tuple[str, str]:
        parts = urlsplit(self.uri)
        return unquote(parts.username or ""), unquote(parts.password or "")

    def put(self, path: str, body: dict) -> None:
        response = requests.put(
            self.api + path, json=body, auth=self.auth, timeout=TIMEOUT
        )
        response.raise_for_status()

    def delete(self, path: str) -> None:
        """DELETE ``path``; what is not there is gone already."""
        response = requests.delete(self.api + path, auth=self.auth, timeout=TIMEOUT)
        if response.status_code != 404:
            response.raise_for_status()

    def delete_users(self, prefix: str) -> None:
        """Delete every user whose name starts with ``prefix``."""
        users = requests.get(f"{self.api}/users", auth=self.auth, timeout=TIMEOUT)
        for user in users.json() if users.ok else []:
            if user["name"].startswith(prefix):
                requests.delete(
                    f"{self.api}/users/{quote(user['name'], safe='')}",
                    auth=self.auth,
                    timeout=TIMEOUT,
                )


def password_of(name: str, environment=os.environ) -> str | None:
    """The password ``EMS_AMQP_URI_<NAME>`` already gives, if it is set."""
    uri = environment.get(variable(name))
    if not uri:
        return None
    return unquote(urlsplit(uri).password or "") or None


def ensure_users(
    management: Management,
    vhost: str,
    base_uri: str,
    passwords: dict[str, str] | None = None,
    prefix: str = USER_PREFIX,
    admin_access: bool = False,
) -> dict[str, str]:
    """Create the virtual host and every process's user (setting the passwords of
    those given, new ones for the others); ``{EMS_AMQP_URI_<NAME>: uri}``.

    The management API gives whoever creates a virtual host full access to it;
    that is taken back unless ``admin_access`` (a test run, whose test code acts
    as the operator). Users are the broker's, not the virtual host's: installations
    that share a broker (test runs) name theirs with a ``prefix`` of their own."""
    passwords = dict(passwords or {})
    management.put(f"/vhosts/{quote(vhost, safe='')}", {})
    if not admin_access:
        management.delete(
            f"/permissions/{quote(vhost, safe='')}/{quote(management.auth[0], safe='')}"
        )
    uris = {}
    for name, permissions in PERMISSIONS.items():
        user = f"{prefix}{name}"
        password = passwords.get(name) or secrets.token_urlsafe(24)
        management.put(
            f"/users/{quote(user, safe='')}",
            {"password": password, "tags": TAGS.get(name, "")},
        )
        management.put(
            f"/permissions/{quote(vhost, safe='')}/{quote(user, safe='')}", permissions
        )
        if name in TOPICS:
            management.put(
                f"/topic-permissions/{quote(vhost, safe='')}/{quote(user, safe='')}",
                TOPICS[name],
            )
        uris[variable(name)] = with_login(base_uri, user, password, vhost)
    return uris


def write_env(path: Path, uris: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{key}={value}" for key, value in sorted(uris.items())]
    path.write_text(
        "# Each process's RabbitMQ login, made by `ems prepare`; never committed.\n"
        + "\n".join(lines)
        + "\n"
    )
    path.chmod(0o600)


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


# -- the bound of ems.dead --------------------------------------------------------
#
# A policy rather than queue arguments: ``ems.dead`` exists on every installation
# already, and declaring it again with other arguments fails (PRECONDITION_FAILED)
# for every process that declares it; a policy applies to the existing queue and
# can be changed later without touching a single declaration.

POLICY = "ems-dead-letters"


def dead_letter_policy(max_length: int, max_bytes: int) -> dict:
    """At most ``max_length`` messages and ``max_bytes`` bytes in ``ems.dead``;
    beyond that the oldest are dropped (drop-head), so the newest rejections, those
    an operator is looking for, are kept and publishers are never refused."""
    return {
        "pattern": f"^{DEAD_QUEUE.name.replace('.', '[.]')}$",
        "apply-to": "queues",
        "priority": 10,
        "definition": {
            "max-length": max_length,
            "max-length-bytes": max_bytes,
            "overflow": "drop-head",
        },
    }


def apply_dead_letter_policy(
    management_uri: str, amqp_uri: str, max_length: int, max_bytes: int
) -> None:
    """Bound ``ems.dead`` in the virtual host ``amqp_uri`` names."""
    vhost = quote(vhost_of(amqp_uri), safe="")
    Management(management_uri).put(
        f"/policies/{vhost}/{POLICY}", dead_letter_policy(max_length, max_bytes)
    )
