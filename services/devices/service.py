"""devices: device CRUD with ownership, and the ``device.*`` events on ``ems.sync``.

Every call made for someone names its ``caller`` (``{"user_id", "role"}``, from the
verified token), and ``policies.py`` says what they may do: a device out of their
reach answers ``DeviceNotFound``, exactly like a missing one. A
device's credentials are its own broker user (``broker.py``), removed with it.
"""

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher, consume
from services.common.policy import listing_owner, permissions
from services.common.rpc import TimedRpcProxy
from services.common.schemas import load
from services.common.topology import (
    DATA,
    DEVICES_USER_DELETED,
    SYNC,
    mqtt_command_topic,
    mqtt_reading_topic,
    reading_key,
)
from services.devices import policies
from services.devices.broker import BrokerAccounts
from services.devices.exceptions import (
    DeviceKindLocked,
    DeviceLimitReached,
    DeviceNotFound,
)
from services.devices.schemas import (
    DeviceCreateSchema,
    DeviceCredentialsSchema,
    DeviceListQuerySchema,
    DeviceSchema,
    DeviceUpdateSchema,
)
from services.devices.storage import DeviceStore

device_schema = DeviceSchema()
credentials_schema = DeviceCredentialsSchema()

#: Devices a user may own when ``DEVICES.max_per_user`` is not set.
DEFAULT_MAX_PER_USER = 100


class DevicesService(HealthMixin):
    name = "devices"

    storage = Database(DeviceStore)
    dispatch = Dispatcher(SYNC)
    broker = BrokerAccounts()
    trading_rpc = TimedRpcProxy("trading")
    users_rpc = TimedRpcProxy("users")
    config = Config()

    @rpc(expected_exceptions=EXPECTED)
    def create_device(self, caller, body):
        policies.CREATE.require(caller)
        data = load(DeviceCreateSchema(), body)
        owner_id = data.get("user_id", caller["user_id"])
        if owner_id != caller["user_id"]:
            policies.ADD_FOR_OTHERS.require(caller)
            self.users_rpc.describe_user(owner_id)  # 404 for an unknown owner
        settings = self.config["DEVICES"]
        limit = data.get("max_hourly_kwh", settings["default_max_hourly_kwh"])
        most = int(settings.get("max_per_user", DEFAULT_MAX_PER_USER))
        self.storage.lock_owner(owner_id)
        if self.storage.count_devices(owner_id) >= most:
            raise DeviceLimitReached(
                f"a user may own at most {most} devices; delete one first",
                {"limit": most},
            )
        device = self.storage.add_device(owner_id, data["name"], data["kind"], limit)
        payload = device_schema.dump(device)
        self.dispatch("device.created", {"device": payload})
        self.storage.commit()
        return self._view(device, caller)

    @rpc(expected_exceptions=EXPECTED)
    def get_device(self, caller, device_id):
        return self._view(self._allowed(policies.READ, caller, device_id), caller)

    @rpc(expected_exceptions=EXPECTED)
    def describe_device(self, device_id):
        """A device, for other services (which serve no caller of their own)."""
        return device_schema.dump(self.storage.get_device(device_id))

    @rpc(expected_exceptions=EXPECTED)
    def devices_of(self, user_id):
        """A user's devices, for other services (which serve no caller of their own)."""
        return device_schema.dump(self.storage.list_devices(user_id), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def list_devices(self, caller, query=None):
        requested = load(DeviceListQuerySchema(), query or {}).get("user_id")
        owner = listing_owner(caller, policies.READ_ALL, requested)
        return [
            self._view(device, caller) for device in self.storage.list_devices(owner)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def update_device(self, caller, device_id, body):
        """Change a device; its kind only while trading holds nothing for it.

        A sell order is accepted for a generating device (pv, battery) and settled
        against what that device meters: were a meter allowed to become a pv with
        orders open or trades unsettled, consumption would be sold as generation.
        """
        changes = load(DeviceUpdateSchema(), body)
        device = self._allowed(policies.UPDATE, caller, device_id)
        if changes.get("kind", device.kind) != device.kind:
            commitments = self.trading_rpc.device_commitments(device.id)
            if any(commitments.values()):
                raise DeviceKindLocked(details=commitments)
        device = self.storage.update_device(device, changes)
        payload = device_schema.dump(device)
        self.dispatch("device.updated", {"device": payload})
        self.storage.commit()
        return self._view(device, caller)

    @rpc(expected_exceptions=EXPECTED)
    def issue_credentials(self, caller, device_id):
        """New broker credentials for the device, replacing any it had.

        The password is returned only here; the broker keeps its hash.
        """
        device = self._allowed(policies.ISSUE_CREDENTIALS, caller, device_id)
        credentials = self.broker.issue(device.id)
        vhost = self.broker.vhost
        # RabbitMQ's MQTT plugin takes a virtual host other than its default from
        # the user name, as ``<vhost>:<user>``.
        mqtt_user = credentials.username
        if vhost != self.config.get("MQTT_VHOST", "ems"):
            mqtt_user = f"{vhost}:{mqtt_user}"
        return credentials_schema.dump(
            {
                "device_id": device.id,
                "username": credentials.username,
                "password": credentials.password,
                "mqtt": {
                    "client_id": credentials.username,
                    "username": mqtt_user,
                    "port": self.config["MQTT_PORT"],
                    "publish_topic": mqtt_reading_topic(device.id),
                    "command_topic": mqtt_command_topic(device.id),
                },
                "amqp": {
                    "vhost": vhost,
                    "exchange": DATA.name,
                    "routing_key": reading_key(device.id),
                },
            }
        )

    @rpc(expected_exceptions=EXPECTED)
    def delete_device(self, caller, device_id):
        device = self._allowed(policies.DELETE, caller, device_id)
        payload = device_schema.dump(device)
        self.storage.delete_device(device)
        self.dispatch("device.deleted", {"device": payload})
        # Before the commit: if the broker cannot be told, the device stays and the
        # call can be repeated, rather than leave working credentials behind.
        self.broker.revoke(device.id)
        self.storage.commit()

    @consume(DEVICES_USER_DELETED)
    def handle_user_deleted(self, body):
        """A deleted user's devices go too, each announced as ``device.deleted``.

        The events go out before the commit: if this worker dies in between, the
        redelivered ``user.deleted`` finds the devices still there and announces
        them again, so nothing is lost (consumers of ``device.deleted`` are
        idempotent).
        """
        user_id = body["user"]["id"]
        for device in self.storage.delete_devices_of(user_id):
            self.dispatch("device.deleted", {"device": device_schema.dump(device)})
            self.broker.revoke(device.id)
        self.storage.commit()

    def _allowed(self, policy, caller, device_id):
        """The device, if ``policy`` lets the caller act on it; a device the caller
        may not act on answers like a missing one."""
        device = self.storage.get_device(device_id)
        policy.require(caller, device.user_id, refusal=DeviceNotFound())
        return device

    def _view(self, device, caller) -> dict:
        """The device as the caller sees it: with what they may do with it."""
        return device_schema.dump(
            device,
        ) | {"permissions": permissions(caller, device.user_id, *policies.ON_A_DEVICE)}
