"""A simulated device's own MQTT connection: readings out, commands in, answers and
presence out, as a real device that talks back does.

Logged in with the device's credentials (its broker user name as client id), the
link keeps a persistent session (``clean_session`` false), so commands published
while it was away wait in its subscription queue. On every connect it subscribes to
``ems/devices/<id>/commands`` with QoS 1 and then says ``{"online": true}`` on
``ems/devices/<id>/status``; its will says ``{"online": false}``, which the broker
publishes when the connection drops without a DISCONNECT. A clean stop says
``{"online": false}`` itself before disconnecting.

A command is acknowledged to the broker (PUBACK) only once the device's answer on
``ems/devices/<id>/acks`` is, so that a connection lost in between brings the
command back, and the handler answers it again without carrying it out twice.
"""

import json
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from services.common.amqp import Backoff
from services.common.topology import (
    mqtt_ack_topic,
    mqtt_command_topic,
    mqtt_reading_topic,
    mqtt_status_topic,
)
from simulator.commands import CommandHandler
from simulator.profiles import Device
from simulator.publisher import (
    DeviceLogin,
    DevicePublishers,
    MqttPublisher,
    NotAcknowledged,
    Publisher,
    Stopper,
    warn,
)

ONLINE = json.dumps({"online": True})
OFFLINE = json.dumps({"online": False})


def paho_client(client_id: str) -> mqtt.Client:
    """A client that keeps its session and acknowledges messages when told to."""
    return mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        manual_ack=True,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


class DeviceLink(MqttPublisher):
    """One simulated device on the broker's MQTT listener.

    ``publish`` sends its readings (QoS 1, waiting for the PUBACK, as
    ``MqttPublisher`` does); commands are handled on paho's thread by ``handler``.
    ``go_silent`` pulls the plug.
    """

    def __init__(
        self,
        host: str,
        port: int,
        stopper: Stopper,
        login: DeviceLogin,
        device_id: str,
        handler: CommandHandler,
        backoff: Backoff | None = None,
        ack_timeout: float = 10.0,
        make_client: Callable[[str], mqtt.Client] = paho_client,
        now: Callable[[], datetime] = utc_now,
        log: Callable[[str], None] = warn,
    ):
        super().__init__(host, port, stopper, backoff, ack_timeout, login)
        self.device_id = device_id
        self.handler = handler
        self.make_client, self.now, self.log = make_client, now, log
        self.silent = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        # The message id of each answer published, with the command's id and QoS:
        # the command is acknowledged when its answer is.
        self.answering: dict[int, tuple[int, int]] = {}
        self.answering_lock = threading.Lock()

    # -- the connection ------------------------------------------------------------

    def start(self) -> bool:
        """Connect now, so that commands arrive before the first reading is due;
        False (and a later publish tries again) if the broker cannot be reached."""
        try:
            self.connect()
            return True
        except self.failures as exc:
            self.log(f"{self.device_id} could not connect yet ({exc!r})")
            self.drop()
            return False

    def connect(self) -> None:
        if self.silent.is_set():
            raise NotAcknowledged("the device is silent")
        client = self.make_client(self.login.client_id)
        client.username_pw_set(self.login.mqtt_username, self.login.password)
        client.will_set(mqtt_status_topic(self.device_id), OFFLINE, qos=1)
        client.on_connect = self.on_connect
        client.on_subscribe = self.on_subscribe
        client.on_message = self.on_message
        client.on_publish = self.on_publish
        self.connected.clear()
        self.subscribed.clear()
        self.client = client
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        if not self.connected.wait(self.ack_timeout):
            raise NotAcknowledged(f"no CONNACK within {self.ack_timeout} s")
        if not self.subscribed.wait(self.ack_timeout):
            raise NotAcknowledged(f"no SUBACK within {self.ack_timeout} s")

    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            self.log(f"{self.device_id} refused by the broker: {reason_code}")
            return
        self.connected.set()
        client.subscribe(mqtt_command_topic(self.device_id), qos=1)
        # After the SUBSCRIBE on the same connection: "online" means listening.
        client.publish(mqtt_status_topic(self.device_id), ONLINE, qos=1)

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            self.log(f"{self.device_id} may not subscribe to its commands")
            return
        self.subscribed.set()

    # -- commands --------------------------------------------------------------------

    def on_message(self, client, userdata, message):
        response = self.handler.handle(message.payload, self.now())
        if response.note:
            self.log(f"{self.device_id} {response.note}")
        if response.silent:
            # The command stays unacknowledged: the broker keeps it for later.
            self.go_silent()
            return
        if response.ack is None:
            client.ack(message.mid, message.qos)
            return
        info = client.publish(
            mqtt_ack_topic(self.device_id), json.dumps(response.ack), qos=1
        )
        with self.answering_lock:
            # paho reports the answer's PUBACK on this same thread, after this
            # callback returns, so the entry is always there first.
            self.answering[info.mid] = (message.mid, message.qos)

    def on_publish(self, client, userdata, mid, reason_code, properties):
        with self.answering_lock:
            command = self.answering.pop(mid, None)
        if command is not None:
            client.ack(*command)

    # -- misbehaving and leaving -----------------------------------------------------

    def is_silent(self, device_id: str) -> bool:
        return self.silent.is_set()

    def go_silent(self) -> None:
        """Stop publishing and drop the connection without a DISCONNECT, as a
        device whose power is cut: the broker publishes its will."""
        self.silent.set()
        client, self.client = self.client, None
        if client is None:
            return
        sock = client.socket()
        # Stops paho's thread (and its reconnecting) once the socket fails.
        client.loop_stop()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def send(self, reading: dict, body: bytes) -> None:
        if self.silent.is_set():
            return
        if self.client is None:
            self.connect()
        client = self.client
        if client is None:
            return  # it went silent meanwhile
        info = client.publish(mqtt_reading_topic(self.device_id), body, qos=1)
        info.wait_for_publish(self.ack_timeout)
        if not info.is_published():
            raise NotAcknowledged(f"no PUBACK within {self.ack_timeout} s")

    def close(self) -> None:
        """Say offline, then leave cleanly (the session stays on the broker)."""
        client = self.client
        if client is not None and self.connected.is_set():
            info = client.publish(mqtt_status_topic(self.device_id), OFFLINE, qos=1)
            try:
                info.wait_for_publish(self.ack_timeout)
            except (RuntimeError, ValueError):
                pass  # gone already: the will says it
        self.drop()


class DeviceLinks(DevicePublishers):
    """The link of every listed device, connected as soon as it is listed
    (``make(device)``) and closed, saying offline, once it is no longer listed."""

    def __init__(self, make: Callable[[Device], Publisher], stopper: Stopper):
        super().__init__(lambda device_id: self.missing(device_id), stopper, "MQTT")
        self.make_link = make

    def ensure(self, devices: list[Device]) -> None:
        listed = {device.id for device in devices}
        for device_id in [d for d in self.publishers if d not in listed]:
            self.publishers.pop(device_id).close()
        for device in devices:
            if device.id not in self.publishers:
                self.publishers[device.id] = self.make_link(device)

    @staticmethod
    def missing(device_id: str) -> Publisher:
        raise LookupError(f"{device_id} has no link: ensure() makes them")
