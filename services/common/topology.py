"""The message topology: every exchange and queue of the platform, declared once.

Every consumer and publisher imports its exchanges and queues from here.
"""

from datetime import UTC, datetime

from kombu import Exchange, Queue, binding

#: Device readings, ``device.<device_id>.reading``.
DATA = Exchange("ems.data", type="topic", durable=True)
#: Entity changes, ``user.created`` … ``device.deleted``.
SYNC = Exchange("ems.sync", type="topic", durable=True)
#: Messages for browsers, ``user.<user_id>.<type>`` or ``role.<ROLE>.<type>``.
WS = Exchange("ems.ws", type="topic", durable=True)
#: Rejected messages, under their original routing key.
DLX = Exchange("ems.dlx", type="topic", durable=True)

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


#: Readings published over AMQP: ``device.<device_id>.reading``.
READING_KEY = "device.*.reading"
#: Readings published over MQTT to ``ems/devices/<device_id>/reading``: RabbitMQ's
#: MQTT plugin publishes them to ``ems.data`` with ``/`` turned into ``.``.
MQTT_READING_KEY = "ems.devices.*.reading"
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


def ingest_queue(number: int) -> Queue:
    """The queue of monitoring worker ``number``, fed by the balancer."""
    return Queue(f"monitoring.ingest.{number}", durable=True)


def sync_queue(service: str, *routing_keys: str, purpose: str = "sync") -> Queue:
    """A durable queue through which ``service`` follows ``ems.sync`` events."""
    return Queue(
        f"{service}.{purpose}",
        bindings=[binding(SYNC, routing_key=key) for key in routing_keys],
        durable=True,
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
