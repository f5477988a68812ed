"""Connecting the plain pika processes (balancer, ws_gateway, simulator)
to RabbitMQ, the one way. Nameko services connect through Nameko and kombu."""

import logging
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pika

#: A broker short of memory or disk blocks publishers without a word; give up on
#: such a connection after this many seconds and retry rather than wait forever.
BLOCKED_CONNECTION_TIMEOUT = 60


def pika_parameters(amqp_uri: str, connection_name: str) -> pika.URLParameters:
    """pika's parameters for the platform's ``AMQP_URI``.

    kombu spells the protocol ``pyamqp://`` (as Nameko's test broker URI does); it is
    plain AMQP. ``connection_name`` is how the management UI lists the connection.
    """
    scheme, _, rest = amqp_uri.partition("://")
    if scheme in ("pyamqp", "librabbitmq"):
        scheme = "amqp"
    parameters = pika.URLParameters(f"{scheme}://{rest}")
    parameters.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT
    parameters.client_properties = {"connection_name": connection_name}
    return parameters


def configure_logging(level: str, quiet: tuple[str, ...] = ("pika",)) -> None:
    """Log lines as the Nameko services write them. The ``quiet`` libraries (pika,
    which reports every step of a failed connection attempt as an error) log only
    at DEBUG: the processes log a lost connection once, with its reason, and each
    retry."""
    level = str(level).upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for library in quiet:
        logging.getLogger(library).setLevel(
            logging.DEBUG if level == "DEBUG" else logging.CRITICAL
        )


def vhost_of(uri: str) -> str:
    """The virtual host an AMQP URI names (``/`` when it names none)."""
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def with_login(uri: str, user: str, password: str, vhost: str | None = None) -> str:
    """``uri`` (AMQP, or the management API's) logged in as ``user`` instead, and in
    ``vhost`` if one is named."""
    parts = urlsplit(uri)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    netloc += parts.hostname or "127.0.0.1"
    if parts.port:
        netloc += f":{parts.port}"
    path = parts.path if vhost is None else "/" + quote(vhost, safe="")
    return urlunsplit((parts.scheme or "amqp", netloc, path, parts.query, ""))
