"""Each device's own RabbitMQ user, kept through the broker's management API.

A device publishes its readings as itself, over MQTT (RabbitMQ's MQTT plugin) or
AMQP, with a broker user that may write only its own routing keys on ``ems.data``
(``ems.devices.<id>.…`` from MQTT topics ``ems/devices/<id>/…``, and AMQP's
``device.<id>.reading``) and hear only its own commands: over MQTT by subscribing
to its command topic, over AMQP from its own queue ``device.<id>.commands``, bound
with its command key. RabbitMQ checks those topic permissions on every publish,
subscription and binding, so the platform never has to trust what a device says
it is.

Issuing credentials sets a new password, so the old one opens no new connection;
connections opened with it before are then closed. Revoking deletes the user and
closes its connections. Both are idempotent. The management API lists a new
connection only with its next statistics (every 5 s by default), so connections are
looked for again for ``SWEEP_SECONDS``: an old password stays usable for at most
that long on a connection it opened just before the change.
"""

import logging
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import requests
from nameko.extensions import DependencyProvider

from services.common.amqp import vhost_of, with_login
from services.common.topology import device_command_queue
from services.devices.exceptions import BrokerUnavailable

log = logging.getLogger(__name__)

#: A device's MQTT client id and broker user name.
USER_PREFIX = "ems-device-"
#: Marks the broker users that belong to devices (the management UI shows it).
DEVICE_TAG = "ems-device"
TIMEOUT = 10
PASSWORD_BYTES = 24
#: When connections of a changed user are looked for, in seconds after the change.
SWEEP_SECONDS = (0, 2, 4, 6, 8, 11)


def username(device_id: str) -> str:
    return f"{USER_PREFIX}{device_id}"


def permissions(device_id: str) -> tuple[dict, dict]:
    """The resource and topic permissions of a device's broker user.

    Resources: the MQTT plugin declares the device's subscription queue (named after
    its client id, which must be its user name) and binds it to ``ems.data``; an
    AMQP device declares, binds and reads its own ``device.<id>.commands``; AMQP
    publishing needs write on ``ems.data``. Topics: what it may publish, and the
    one key it may subscribe or bind its queues with.
    """
    user = re.escape(username(device_id))
    device = re.escape(device_id)
    mqtt_queue = f"mqtt-subscription-{user}qos[01]"
    amqp_queue = re.escape(device_command_queue(device_id).name)
    own_queues = f"{mqtt_queue}|{amqp_queue}"
    resources = {
        "configure": f"^({own_queues})$",
        "write": f"^(ems\\.data|{own_queues})$",
        "read": f"^(ems\\.data|{own_queues})$",
    }
    topics = {
        "exchange": "ems.data",
        "write": f"^(ems\\.devices\\.{device}\\.[^.]+|device\\.{device}\\.reading)$",
        "read": f"^ems\\.devices\\.{device}\\.commands$",
    }
    return resources, topics


def management_login(management_uri: str, amqp_uri: str) -> str:
    """The management API at ``management_uri``, logged in as the service's own
    broker user (``amqp_uri``'s): the one platform user allowed to manage users."""
    own = urlsplit(amqp_uri)
    if not own.username:
        return management_uri
    return with_login(
        management_uri, unquote(own.username), unquote(own.password or "")
    )


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


class BrokerAccountsClient:
    """The management API calls behind a device's credentials."""

    def __init__(self, management_uri: str, vhost: str, session=None):
        parts = urlsplit(management_uri)
        self.api = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}/api"
        self.auth = (unquote(parts.username or ""), unquote(parts.password or ""))
        self.vhost = vhost
        self.session = session or requests.Session()

    def issue(self, device_id: str) -> Credentials:
        """A new password for the device's user (created if need be); connections
        made with the old one are closed."""
        user = username(device_id)
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        resources, topics = permissions(device_id)
        vhost = quote(self.vhost, safe="")
        name = quote(user, safe="")
        self._call("PUT", f"/users/{name}", {"password": password, "tags": DEVICE_TAG})
        self._call("PUT", f"/permissions/{vhost}/{name}", resources)
        self._call("PUT", f"/topic-permissions/{vhost}/{name}", topics)
        return Credentials(user, password)

    def revoke(self, device_id: str) -> str:
        """Delete the device's user, if it has one; its name, to sweep."""
        user = username(device_id)
        self._call("DELETE", f"/users/{quote(user, safe='')}", missing_ok=True)
        return user

    def sweep(self, user: str, before_ms: int, sleep=time.sleep) -> None:
        """Close ``user``'s connections opened before ``before_ms`` (epoch ms), now
        and again as the broker's statistics bring newer ones to light."""
        waited = 0
        for at in SWEEP_SECONDS:
            sleep(at - waited)
            waited = at
            try:
                self.close_connections(user, before_ms)
            except Exception:
                # The next look may get through; a thread of the container's must
                # not raise, or it takes the service down with it.
                log.exception("could not close the connections of %s", user)

    def close_connections(self, user: str, before_ms: int) -> None:
        connections = self._call("GET", "/connections?columns=name,user,connected_at")
        for connection in connections or []:
            opened = connection.get("connected_at") or 0
            if connection.get("user") == user and opened < before_ms:
                self._call(
                    "DELETE",
                    f"/connections/{quote(connection['name'], safe='')}",
                    headers={"X-Reason": "device credentials changed"},
                    missing_ok=True,
                )

    def _call(self, method, path, body=None, headers=None, missing_ok=False):
        try:
            response = self.session.request(
                method,
                self.api + path,
                json=body,
                auth=self.auth,
                headers=headers,
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise BrokerUnavailable(f"the broker cannot be reached: {exc}") from exc
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise BrokerUnavailable(
                f"the broker refused {method} {path.split('?')[0]}: "
                f"{response.status_code} {response.text[:200]}"
            )
        return response.json() if response.content else None


class BrokerAccounts(DependencyProvider):
    """A device's broker user for the service's workers: ``issue`` and ``revoke``
    change it and leave closing the connections of its old login to a thread of
    the container's."""

    def setup(self):
        config = self.container.config
        self.client = BrokerAccountsClient(
            management_login(config["RABBIT_MANAGEMENT_URI"], config["AMQP_URI"]),
            vhost_of(config["AMQP_URI"]),
        )

    def get_dependency(self, worker_ctx):
        return Accounts(self.client, self.container.spawn_managed_thread)


class Accounts:
    def __init__(self, client: BrokerAccountsClient, spawn):
        self.client = client
        self.vhost = client.vhost
        self._spawn = spawn

    def issue(self, device_id: str) -> Credentials:
        changed_ms = now_ms()
        credentials = self.client.issue(device_id)
        self._sweep(credentials.username, changed_ms)
        return credentials

    def revoke(self, device_id: str) -> None:
        user = self.client.revoke(device_id)
        self._sweep(user, now_ms() + 1)

    def _sweep(self, user: str, before_ms: int) -> None:
        self._spawn(lambda: self.client.sweep(user, before_ms))


def now_ms() -> int:
    return int(time.time() * 1000)
