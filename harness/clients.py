"""Clients of a running ``Stack``, as browsers and devices talk to it: its HTTP API
through Traefik, MQTT with a device's credentials, WebSockets to ``/ws``."""

import json
import socket
import threading
import time

import paho.mqtt.client as mqtt
import requests
import websocket

from harness.stack import Stack


class ApiClient:
    """``requests`` against the stack through Traefik, with an optional token."""

    def __init__(self, base_url: str, token: str | None = None):
        self.base_url = base_url
        self.token = token

    def request(self, method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        token = token or self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(
            method, self.base_url + path, headers=headers, timeout=15, **kwargs
        )

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def login(self, email, password):
        response = self.post("/api/auth/login", {"email": email, "password": password})
        assert response.status_code == 200, response.text
        return ApiClient(self.base_url, response.json()["access_token"])


class MqttDevice:
    """A device on RabbitMQ's MQTT listener, logged in with the credentials that
    ``POST /api/devices/{id}/credentials`` (``answer``) gave it, or others.
    ``will=(topic, body)`` leaves a will (QoS 1), which the broker publishes if
    the connection drops without a DISCONNECT (``drop()``)."""

    def __init__(self, answer: dict, password: str | None = None, **changes):
        mqtt_login = answer["mqtt"]
        self.client_id = changes.get("client_id", mqtt_login["client_id"])
        self.port = int(changes.get("port", mqtt_login["port"]))
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=changes.get("clean_session", True),
        )
        username = changes.get("username", mqtt_login["username"])
        if username is not None:
            self.client.username_pw_set(username, password or answer["password"])
        self.client.max_inflight_messages_set(changes.get("inflight", 1000))
        if "will" in changes:
            topic, body = changes["will"]
            self.client.will_set(topic, json.dumps(body), qos=1)
        self.connack = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.suback: list = []
        self.subscribed = threading.Event()
        self.received: list = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, message: self.received.append(message)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        if reason_code.is_failure:
            self.disconnected.set()
        else:
            self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.suback = list(reason_codes)
        self.subscribed.set()

    def connect(self, timeout: float = 10.0) -> bool:
        """True if the broker accepted the login within ``timeout`` seconds."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected.is_set():
                return True
            if self.disconnected.is_set():
                return False
            time.sleep(0.02)
        return False

    def publish(self, topic: str, body: dict | bytes, timeout: float = 10.0):
        """The publish's ``MQTTMessageInfo``, waited for up to ``timeout``."""
        payload = body if isinstance(body, bytes) else json.dumps(body)
        info = self.client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            pass  # not connected (any more): is_published() says False
        return info

    def subscribe(self, topic: str, timeout: float = 10.0) -> list:
        """The SUBACK's reason codes, or [] if none came."""
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        self.subscribed.wait(timeout)
        return self.suback

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """End the TCP connection without a DISCONNECT, as a device that loses
        power or its network does: the broker publishes the will."""
        self.client.loop_stop()
        connection = self.client.socket()
        if connection is not None:
            connection.shutdown(socket.SHUT_RDWR)
            connection.close()


def can_connect(answer: dict, **changes) -> bool:
    """Whether a device may connect with these credentials (then it leaves)."""
    device = MqttDevice(answer, **changes)
    try:
        return device.connect()
    finally:
        device.close()


def assert_locked_out_when_replaced_and_deleted(issue, delete, wait: float = 15.0):
    """A device's login stops working when new credentials replace it (``issue()``)
    and when the device is deleted (``delete()``): its open connection is closed
    within ``wait`` seconds, and it cannot connect again."""
    first = issue()
    online = MqttDevice(first)
    assert online.connect()
    second = issue()
    assert second["password"] != first["password"]
    try:
        assert online.disconnected.wait(wait), "the replaced login stayed connected"
    finally:
        online.close()
    assert not can_connect(first)
    current = MqttDevice(second)
    assert current.connect()
    delete()
    try:
        assert current.disconnected.wait(wait), "a deleted device stayed connected"
    finally:
        current.close()
    assert not can_connect(second)


def ws_connect(stack: Stack, token: str, port: int | None = None):
    """A WebSocket to ``/ws``, through Traefik unless a gateway ``port`` is named."""
    return websocket.create_connection(
        f"ws://127.0.0.1:{port or stack.ports['http']}/ws?token={token}",
        origin=f"http://app.localhost:{stack.ports['http']}",
        timeout=10,
    )


def ws_closed_with(socket, wait: float = 10.0) -> int:
    """The close code the server ended the socket with."""
    socket.settimeout(wait)
    while True:
        opcode, data = socket.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


def ws_receive(socket, type_: str | None = None, wait: float = 10.0):
    """The next message (of ``type_``, if given) within ``wait`` seconds, or None."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        socket.settimeout(left)
        try:
            message = json.loads(socket.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if type_ is None or message["type"] == type_:
            return message
    return None
