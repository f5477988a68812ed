"""devices: device CRUD with ownership, and the ``device.*`` events on ``ems.sync``.

Every call names its ``viewer`` (``{"user_id", "role"}``, from the verified token):
another user's device answers ``DeviceNotFound``, exactly like a missing one. A
device's credentials are its own broker user (``broker.py``), removed with it.
"""

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common import access
from services.common.db import Database
from services.common.errors import EXPECTED, Forbidden
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher, consume
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
from services.devices.broker import BrokerAccounts
from services.devices.exceptions import (
    DeviceKindLocked,
    DeviceLimitReached,
    DeviceNotFound,
)
from services.devices.schemas import (
    DeviceCreateSchema,
    DeviceCredentialsSchema,
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
    config = Config()

    @rpc(expected_exceptions=EXPECTED)
    def create_device(self, data, viewer):
        data = load(DeviceCreateSchema(), data)
        owner_id = data.get("user_id", viewer["user_id"])
        if not access.can_write(viewer, owner_id):
            raise Forbidden("only ADMIN creates devices for another user")
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
        return payload

    @rpc(expected_exceptions=EXPECTED)
    def get_device(self, device_id, viewer):
        return device_schema.dump(self._readable(device_id, viewer))

    @rpc(expected_exceptions=EXPECTED)
    def describe_device(self, device_id):
        """A device, for other services (which serve no viewer of their own)."""
        return device_schema.dump(self.storage.get_device(device_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_devices(self, viewer, user_id=None):
        owner = access.listing_owner(viewer, user_id)
        return device_schema.dump(self.storage.list_devices(owner), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def update_device(self, device_id, changes, viewer):
        """Change a device; its kind only while trading holds nothing for it.

        A sell order is accepted for a generating device (pv, battery) and settled
        against what that device meters: were a meter allowed to become a pv with
        orders open or trades unsettled, consumption would be sold as generation.
        """
        changes = load(DeviceUpdateSchema(), changes)
        device = self._writable(device_id, viewer)
        if changes.get("kind", device.kind) != device.kind:
            commitments = self.trading_rpc.device_commitments(device.id)
            if any(commitments.values()):
                raise DeviceKindLocked(details=commitments)
        device = self.storage.update_device(device, changes)
        payload = device_schema.dump(device)
        self.dispatch("device.updated", {"device": payload})
        self.storage.commit()
        return payload

    @rpc(expected_exceptions=EXPECTED)
    def issue_credentials(self, device_id, viewer):
        """New broker credentials for the device, replacing any it had.

        The password is returned only here; the broker keeps its hash.
        """
        device = self._writable(device_id, viewer)
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
    def delete_device(self, device_id, viewer):
        device = self._writable(device_id, viewer)
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

    def _readable(self, device_id, viewer):
        device = self.storage.get_device(device_id)
        if not access.can_read(viewer, device.user_id):
            raise DeviceNotFound()
        return device

    def _writable(self, device_id, viewer):
        device = self.storage.get_device(device_id)
        if not access.can_write(viewer, device.user_id):
            raise DeviceNotFound()
        return device
