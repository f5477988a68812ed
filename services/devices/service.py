"""devices: device CRUD with ownership, and the ``device.*`` events on ``ems.sync``.

Every call names its ``viewer`` (``{"user_id", "role"}``, from the verified token):
another user's device answers ``DeviceNotFound``, exactly like a missing one.
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
from services.common.topology import SYNC, sync_queue
from services.devices.exceptions import DeviceKindLocked, DeviceNotFound
from services.devices.schemas import (
    DeviceCreateSchema,
    DeviceSchema,
    DeviceUpdateSchema,
)
from services.devices.storage import DeviceStore

device_schema = DeviceSchema()


class DevicesService(HealthMixin):
    name = "devices"

    storage = Database(DeviceStore)
    dispatch = Dispatcher(SYNC)
    trading_rpc = TimedRpcProxy("trading")
    config = Config()

    @rpc(expected_exceptions=EXPECTED)
    def create_device(self, data, viewer):
        data = load(DeviceCreateSchema(), data)
        owner_id = data.get("user_id", viewer["user_id"])
        if not access.can_write(viewer, owner_id):
            raise Forbidden("only ADMIN creates devices for another user")
        limit = data.get(
            "max_hourly_kwh", self.config["DEVICES"]["default_max_hourly_kwh"]
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
    def delete_device(self, device_id, viewer):
        device = self._writable(device_id, viewer)
        payload = device_schema.dump(device)
        self.storage.delete_device(device)
        self.dispatch("device.deleted", {"device": payload})
        self.storage.commit()

    @consume(sync_queue("devices", "user.deleted"))
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
