"""devicedb access for the devices service."""

from sqlalchemy import func, select

from services.common.db import Store
from services.common.schemas import is_id
from services.devices.exceptions import DeviceNotFound
from services.devices.models import Device


class DeviceStore(Store):
    def lock_owner(self, user_id: str) -> None:
        """Serialise the creation of ``user_id``'s devices until the transaction
        ends, in every devices process.

        The quota is a count followed by an insert; two creates counting at once
        would both fit under the limit and both insert. devicedb has no row per
        owner to lock (users live in userdb) and locking the owner's devices
        cannot stop new ones being inserted, so a lock on the owner's id does it.
        SERIALIZABLE would also catch the race, but by failing one transaction,
        which would then have to be retried; the lock makes the second create
        wait a few milliseconds and count again.
        """
        self.advisory_lock(f"devices:owner:{user_id}")

    def count_devices(self, user_id: str) -> int:
        return self.session.scalar(
            select(func.count()).select_from(Device).where(Device.user_id == user_id)
        )

    def add_device(
        self, user_id: str, name: str, kind: str, max_hourly_kwh: float
    ) -> Device:
        device = Device(
            user_id=user_id, name=name, kind=kind, max_hourly_kwh=max_hourly_kwh
        )
        self.session.add(device)
        self.session.flush()
        return device

    def get_device(self, device_id: str) -> Device:
        device = self.session.get(Device, device_id) if is_id(device_id) else None
        if device is None:
            raise DeviceNotFound()
        return device

    def list_devices(self, user_id: str | None = None) -> list[Device]:
        query = select(Device).order_by(Device.created_at, Device.id)
        if user_id is not None:
            query = query.where(Device.user_id == user_id)
        return list(self.session.scalars(query))

    def update_device(self, device: Device, changes: dict) -> Device:
        for field in ("name", "kind", "max_hourly_kwh"):
            if field in changes:
                setattr(device, field, changes[field])
        self.session.flush()
        return device

    def delete_device(self, device: Device) -> None:
        self.session.delete(device)
        self.session.flush()

    def delete_devices_of(self, user_id: str) -> list[Device]:
        # Locked so that a redelivered or concurrent cascade for the same user
        # waits here instead of publishing the same deletions twice.
        devices = list(
            self.session.scalars(
                select(Device).where(Device.user_id == user_id).with_for_update()
            )
        )
        for device in devices:
            self.session.delete(device)
        self.session.flush()
        return devices
