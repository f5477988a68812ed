"""The message topology: every exchange and queue of the platform, declared once.

Every consumer and publisher imports its exchanges and queues from here, and
``ems/broker.py`` grants each process's broker user what these name. The tables of
``## Messaging`` in docs/architecture.md list the same, and a test keeps them so.
"""

from datetime import UTC, datetime

from kombu import Exchange, Queue, binding

#: What devices say and are told: readings (``device.<device_id>.reading``), and
#: over MQTT topics ``ems/devices/<device_id>/<what>`` (``ems.devices.<id>.<what>``)
#: readings, commands to the device, its acks and its presence.
DATA = Exchange("ems.data", type="topic", durable=True)
#: Entity changes, ``user.created`` … ``device.deleted``, ``site.*``, ``room.*``;
#: e-mail to send (``mail.send``); the audit log's records (``audit.recorded``).
SYNC = Exchange("ems.sync", type="topic", durable=True)
#: Messages for browsers, ``user.<user_id>.<type>`` or ``role.<ROLE>.<type>``.
WS = Exchange("ems.ws", type="topic", durable=True)
#: Rejected messages, under their original routing key.
DLX = Exchange("ems.dlx", type="topic", durable=True)

#: Nameko's RPC: calls go to ``<service>.<method>``.
RPC = Exchange("nameko-rpc", type="topic", durable=True)

#: Every exchange the platform declares (Nameko declares ``nameko-rpc`` itself).
EXCHANGES = (DATA, SYNC, WS, DLX)
#: The exchanges services publish to: events, browser messages, rejects.
EVENT_EXCHANGES = (SYNC, WS, DLX)

DEAD = Queue("ems.dead", exchange=DLX, routing_key="#", durable=True)

#: Header names of a dead-lettered message.
REASON_HEADER = "x-ems-reason"
SERVICE_HEADER = "x-ems-service"
#: The exchange a dead letter was published to (absent: a reading, ``ems.data``).
EXCHANGE_HEADER = "x-ems-exchange"
#: The routing key a message was published with, kept when the balancer forwards it
#: to an ingest queue (through the default exchange, under the queue's name).
ROUTING_KEY_HEADER = "x-ems-routing-key"


def original_routing_key(headers: dict | None, routing_key: str) -> str:
    return (headers or {}).get(ROUTING_KEY_HEADER) or routing_key


#: When the balancer took a reading from ``balancer.raw``, epoch seconds as decimal
#: text (``"1796209615.204113"``), added as it forwards the reading: the ingest
#: workers measure their lag from it.
RECEIVED_AT_HEADER = "x-ems-received-at"


#: Readings published over AMQP: ``device.<device_id>.reading``.
READING_KEY = "device.*.reading"
#: Readings published over MQTT to ``ems/devices/<device_id>/reading``: RabbitMQ's
#: MQTT plugin publishes them to ``ems.data`` with ``/`` turned into ``.``.
MQTT_READING_KEY = "ems.devices.*.reading"


def reading_path(routing_key: str) -> str:
    """How a reading came, by its original routing key: ``mqtt`` or ``amqp``."""
    return "mqtt" if routing_key.startswith("ems.devices.") else "amqp"


BALANCER_RAW = Queue(
    "balancer.raw",
    bindings=[
        binding(DATA, routing_key=READING_KEY),
        binding(DATA, routing_key=MQTT_READING_KEY),
    ],
    durable=True,
)


def mqtt_reading_topic(device_id: str) -> str:
    """Where a device publishes its readings over MQTT (QoS 1)."""
    return f"ems/devices/{device_id}/reading"


def mqtt_command_topic(device_id: str) -> str:
    """The one topic a device may subscribe to over MQTT."""
    return f"ems/devices/{device_id}/commands"


def mqtt_ack_topic(device_id: str) -> str:
    """Where a device acknowledges its commands over MQTT (QoS 1)."""
    return f"ems/devices/{device_id}/acks"


def mqtt_status_topic(device_id: str) -> str:
    """Where a device says it is online, and its MQTT will that it is not."""
    return f"ems/devices/{device_id}/status"


#: What a device says of itself on ``ems.data``: ``ems.devices.<device_id>.<what>``
#: (MQTT topic ``ems/devices/<device_id>/<what>``, or the same key over AMQP).
COMMANDS, ACKS, STATUS = "commands", "acks", "status"


def device_key(device_id: str, what: str) -> str:
    """``ems.devices.<device_id>.<what>``: a device's MQTT topic as a routing key."""
    return f"ems.devices.{device_id}.{what}"


def device_of_key(routing_key: str, what: str) -> str | None:
    """The device id in ``ems.devices.<id>.<what>``, or None if the key is not one."""
    parts = routing_key.split(".")
    if len(parts) == 4 and parts[:2] == ["ems", "devices"] and parts[3] == what:
        return parts[2] or None
    return None


def device_command_queue(device_id: str) -> Queue:
    """The durable queue an AMQP device declares for itself and reads its commands
    from, bound to ``ems.data`` with its command key. The platform never declares
    it: a device that has none is not listening (its commands wait, pending)."""
    return Queue(
        f"device.{device_id}.commands",
        exchange=DATA,
        routing_key=device_key(device_id, COMMANDS),
        durable=True,
    )


#: devices hears every device's answers to its commands, and its presence.
DEVICES_COMMAND_ACKS = Queue(
    "devices.acks",
    bindings=[binding(DATA, routing_key=device_key("*", ACKS))],
    durable=True,
)
DEVICES_PRESENCE = Queue(
    "devices.presence",
    bindings=[binding(DATA, routing_key=device_key("*", STATUS))],
    durable=True,
)


#: Every ingest queue's name starts so; the balancer and the workers are given theirs
#: by configuration (``TARGETS``, ``INGEST_QUEUE``), ``monitoring.ingest.1`` and ``.2``.
INGEST_PREFIX = "monitoring.ingest."


def ingest_queue_named(name: str) -> Queue:
    """An ingest queue, fed by the balancer through the default exchange and consumed
    by a monitoring worker."""
    return Queue(name, durable=True)


def ingest_queue(number: int) -> Queue:
    """The queue of monitoring worker ``number``."""
    return ingest_queue_named(f"{INGEST_PREFIX}{number}")


def _sync_queue(service: str, purpose: str, *routing_keys: str) -> Queue:
    """A durable queue, ``<service>.<purpose>``, through which ``service`` follows
    ``ems.sync`` events."""
    return Queue(
        f"{service}.{purpose}",
        bindings=[binding(SYNC, routing_key=key) for key in routing_keys],
        durable=True,
    )


# What each service follows of ``ems.sync``: a queue per handler, bound to the
# events it handles.
DEVICES_USER_DELETED = _sync_queue("devices", "sync", "user.deleted")
#: A new account's default site.
DEVICES_USER_CREATED = _sync_queue("devices", "created-users", "user.created")
MONITORING_DEVICE_CHANGED = _sync_queue(
    "monitoring", "devices", "device.created", "device.updated"
)
MONITORING_DEVICE_DELETED = _sync_queue(
    "monitoring", "deleted-devices", "device.deleted"
)
#: Sites' changes and deletions on one queue, so they are handled in order.
MONITORING_SITES = _sync_queue(
    "monitoring", "sites", "site.created", "site.updated", "site.deleted"
)
#: Devices' presence, ``{"online": true|false}`` on ``ems.devices.<id>.status``
#: (when a device connects, and its MQTT will), which monitoring turns into their
#: status at once.
MONITORING_PRESENCE = Queue(
    "monitoring.presence",
    bindings=[binding(DATA, routing_key=device_key("*", STATUS))],
    durable=True,
)
BATTERIES_USER_DELETED = _sync_queue("batteries", "sync", "user.deleted")
BATTERIES_DEVICE_DELETED = _sync_queue("batteries", "deleted-devices", "device.deleted")
DR_USER_DELETED = _sync_queue("dr", "sync", "user.deleted")
TRADING_USER_DELETED = _sync_queue("trading", "sync", "user.deleted")
SUPPORT_USER_DELETED = _sync_queue("support", "sync", "user.deleted")
#: What alarms keeps a copy of (devices, rooms, sites, in order on one queue) and
#: forgets (users).
ALARMS_SYNC = _sync_queue(
    "alarms",
    "sync",
    "device.created",
    "device.updated",
    "device.deleted",
    "room.created",
    "room.updated",
    "room.deleted",
    "site.created",
    "site.updated",
    "site.deleted",
    "user.deleted",
)
#: E-mail to send, ``{to, subject, text}`` on ``ems.sync`` under ``mail.send``
#: (``services.common.mail``): the mail service takes it from this queue and keeps
#: it there until the SMTP server has it.
MAIL_SEND = "mail.send"
MAIL_OUTBOX = _sync_queue("mail", "outbox", MAIL_SEND)
#: The audit log's records, ``audit.recorded`` on ``ems.sync``
#: (``services.common.audit``), from every service that records one: the audit
#: service stores each once.
AUDIT_RECORDED = "audit.recorded"
AUDIT_RECORDS = _sync_queue("audit", "records", "audit.#")

#: Each WebSocket gateway process's own queue: named by the broker (``amq.gen-…``),
#: exclusive and auto-deleted, so it lives as long as the process's connection.
WS_GATEWAY = Queue(
    "",
    bindings=[binding(WS, routing_key="user.#"), binding(WS, routing_key="role.#")],
    durable=False,
    exclusive=True,
    auto_delete=True,
)
#: The one RPC the WebSocket gateway makes: a command one of its sockets sent.
WS_GATEWAY_RPC = "devices.send_command"
#: What the broker names a queue declared without a name.
SERVER_NAMED_PREFIX = "amq.gen-"

#: Every queue of the platform with a name of its own (not one per process).
QUEUES = (
    BALANCER_RAW,
    DEAD,
    DEVICES_USER_DELETED,
    DEVICES_USER_CREATED,
    MONITORING_DEVICE_CHANGED,
    MONITORING_DEVICE_DELETED,
    MONITORING_SITES,
    MONITORING_PRESENCE,
    BATTERIES_USER_DELETED,
    BATTERIES_DEVICE_DELETED,
    DR_USER_DELETED,
    TRADING_USER_DELETED,
    SUPPORT_USER_DELETED,
    MAIL_OUTBOX,
    ALARMS_SYNC,
    AUDIT_RECORDS,
    DEVICES_COMMAND_ACKS,
    DEVICES_PRESENCE,
)

#: The queues each service consumes besides its RPC queue: what its broker user
#: may declare and read.
SERVICE_QUEUES: dict[str, tuple[Queue, ...]] = {
    "devices": (
        DEVICES_USER_DELETED,
        DEVICES_USER_CREATED,
        DEVICES_COMMAND_ACKS,
        DEVICES_PRESENCE,
    ),
    "monitoring": (
        MONITORING_DEVICE_CHANGED,
        MONITORING_DEVICE_DELETED,
        MONITORING_SITES,
        MONITORING_PRESENCE,
        DEAD,
    ),
    "batteries": (BATTERIES_USER_DELETED, BATTERIES_DEVICE_DELETED),
    "dr": (DR_USER_DELETED,),
    "trading": (TRADING_USER_DELETED,),
    "support": (SUPPORT_USER_DELETED,),
    "mail": (MAIL_OUTBOX,),
    "alarms": (ALARMS_SYNC,),
    "audit": (AUDIT_RECORDS,),
}


def rpc_queue(service: str) -> Queue:
    """Nameko's queue of ``service``'s RPC methods."""
    return Queue(
        f"rpc-{service}", exchange=RPC, routing_key=f"{service}.*", durable=True
    )


def rpc_reply_prefix(service: str) -> str:
    """How Nameko names the queues where ``service`` receives the answers to its
    calls: ``rpc.reply-<service>-<uuid>``, one per process."""
    return f"rpc.reply-{service}-"


def rpc_reply_queue(service: str, reply_id: str) -> Queue:
    """Nameko's queue of the answers to ``service``'s calls, bound with its id."""
    return Queue(
        f"{rpc_reply_prefix(service)}{reply_id}",
        exchange=RPC,
        routing_key=reply_id,
        queue_arguments={"x-expires": 300_000},
    )


def reading_key(device_id: str) -> str:
    return f"device.{device_id}.reading"


def device_of_reading_key(routing_key: str) -> str | None:
    """The device id in a reading's routing key, or None if it names none.

    Readings published over AMQP carry ``device.<id>.reading``; those that
    RabbitMQ's MQTT plugin turns into AMQP carry their topic with dots,
    ``ems.devices.<id>.reading``.
    """
    parts = routing_key.split(".")
    if len(parts) == 3 and parts[0] == "device" and parts[2] == "reading":
        return parts[1]
    if len(parts) == 4 and parts[:2] == ["ems", "devices"] and parts[3] == "reading":
        return parts[2]
    return None


def user_message_key(user_id: str, message_type: str) -> str:
    return f"user.{user_id}.{message_type}"


def role_message_key(role: str, message_type: str) -> str:
    return f"role.{role}.{message_type}"


def iso_utc(moment: datetime) -> str:
    """``2026-11-22T10:15:00Z``: how every timestamp travels."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def client_message(message_type: str, data: dict, now: datetime | None = None) -> dict:
    """A message for browsers on ``ems.ws``: ``{type, data, ts}``."""
    return {"type": message_type, "data": data, "ts": iso_utc(now or datetime.now(UTC))}


def declare_all(channel) -> None:
    """Declare every exchange and the shared queues (idempotent)."""
    for exchange in (DATA, SYNC, WS, DLX):
        exchange(channel).declare()
    for queue in (DEAD, BALANCER_RAW):
        queue(channel).declare()
