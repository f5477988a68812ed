"""Sending a command to its device: on ``ems.data`` under
``ems.devices.<id>.commands``, persistent, mandatory and confirmed, and dropped by
the broker once it expires.

A command is sent only after it is committed, so the device's answer, however
quick, finds it. ``send`` says whether the broker took it into a queue: RabbitMQ
confirms a persistent message routed to a durable queue once it is on disk there,
and returns a mandatory one that no queue takes. MQTT devices subscribed with QoS 1
(a clean session's queue lives while the device is connected, a persistent one's
after it leaves) and AMQP devices with their ``device.<id>.commands`` queue have
such a queue; no other queue of the platform is bound to command keys.
"""

import logging
from datetime import datetime

from kombu.exceptions import OperationalError
from nameko.amqp.publish import UndeliverableMessage
from nameko.messaging import Publisher

from services.common.topology import COMMANDS, DATA, device_key
from services.devices.models import Command
from services.devices.schemas import DeviceCommandMessageSchema

log = logging.getLogger(__name__)

message_schema = DeviceCommandMessageSchema()


def command_message(command: Command) -> dict:
    """What the device receives: ``{command_id, type, params, expires_at}``."""
    return message_schema.dump(command)


class CommandSender(Publisher):
    """``send(command, now) -> bool``: whether the broker took ``command`` into a
    queue of its device. A command that expired, that no queue took or that the
    broker could not be asked about stays pending, and is sent again."""

    def __init__(self, **options):
        super().__init__(exchange=DATA, mandatory=True, use_confirms=True, **options)

    def get_dependency(self, worker_ctx):
        # Without the worker's ``nameko.*`` headers: a device has no use for the
        # platform's call ids.
        publish = self.publisher.publish

        def send(command: Command, now: datetime) -> bool:
            ttl = (command.expires_at - now).total_seconds()
            if ttl <= 0:
                return False
            try:
                publish(
                    command_message(command),
                    routing_key=device_key(command.device_id, COMMANDS),
                    # The broker drops it once stale, in whatever queue it waits.
                    expiration=ttl,
                )
            except UndeliverableMessage:
                return False
            except (OperationalError, ConnectionError) as exc:
                log.warning("could not send command %s: %s", command.id, exc)
                return False
            return True

        return send
