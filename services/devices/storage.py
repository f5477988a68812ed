"""devicedb access for the devices service."""

from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Store, utcnow
from services.common.metrics import COMMANDS
from services.common.schemas import is_id
from services.devices.commands import (
    ACKED,
    DELIVERED,
    EXPIRED,
    MOVES,
    NO_ANSWER,
    NOT_ROUTED,
    OPEN,
    PENDING,
    Ack,
)
from services.devices.exceptions import DeviceNotFound, RoomNotFound, SiteNotFound
from services.devices.models import (
    Command,
    CommandEvent,
    Device,
    Room,
    Site,
    SiteMember,
)
from services.devices.policies import SITE_OWNER

#: What a site's answers may change of it.
SITE_FIELDS = (
    "name",
    "address",
    "latitude",
    "longitude",
    "timezone",
    "tariff",
    "co2_kg_per_kwh",
)

#: Pending commands sent again, and commands expired, in one go at most.
RESEND_BATCH = 100
#: Seconds before a pending command is sent again, doubling with each send, at most.
RESEND_FIRST_S, RESEND_MOST_S = 10, 300
EXPIRE_BATCH = 1000


class DeviceStore(Store):
    def __init__(self, session):
        super().__init__(session)
        #: The statuses commands reached in this transaction: counted once it is
        #: committed (``ems_commands_total``), so never for a rolled-back one.
        self._reached: list[str] = []

    def commit(self) -> None:
        super().commit()
        for status in self._reached:
            COMMANDS.labels(status=status).inc()
        self._reached.clear()

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
        self,
        user_id: str,
        name: str,
        kind: str,
        max_hourly_kwh: float,
        reading_interval_s: int,
        latitude: float | None = None,
        longitude: float | None = None,
        *,
        site_id: str,
        room_id: str | None = None,
    ) -> Device:
        device = Device(
            user_id=user_id,
            site_id=site_id,
            room_id=room_id,
            name=name,
            kind=kind,
            max_hourly_kwh=max_hourly_kwh,
            reading_interval_s=reading_interval_s,
            latitude=latitude,
            longitude=longitude,
        )
        self.session.add(device)
        self.session.flush()
        return device

    def get_device(self, device_id: str, lock: bool = False) -> Device:
        """The device; locked until the transaction ends with ``lock`` (it is being
        changed: two moves at once could each check a room against the site the
        other is taking it out of)."""
        device = None
        if is_id(device_id):
            device = self.session.get(
                Device, device_id, with_for_update=lock, populate_existing=lock
            )
        if device is None:
            raise DeviceNotFound()
        return device

    def list_devices(
        self,
        user_id: str | None = None,
        *,
        site_id: str | None = None,
        room_id: str | None = None,
        reachable_by: tuple[str, list[str]] | None = None,
    ) -> list[Device]:
        """Devices, oldest first: ``user_id``'s, those of a site or a room, and
        with ``reachable_by`` (a user's id and their sites) only those the user
        owns or that are in one of their sites."""
        query = select(Device).order_by(Device.created_at, Device.id)
        if user_id is not None:
            query = query.where(Device.user_id == user_id)
        if site_id is not None:
            query = query.where(Device.site_id == site_id)
        if room_id is not None:
            query = query.where(Device.room_id == room_id)
        if reachable_by is not None:
            member, sites = reachable_by
            query = query.where(
                or_(Device.user_id == member, Device.site_id.in_(sites))
            )
        return list(self.session.scalars(query))

    def update_device(self, device: Device, changes: dict) -> Device:
        for field in (
            "name",
            "kind",
            "max_hourly_kwh",
            "reading_interval_s",
            "latitude",
            "longitude",
            "site_id",
            "room_id",
        ):
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

    def delete_devices_of_site(self, site_id: str) -> list[Device]:
        """A site's devices, deleted; locked first, as ``delete_devices_of``."""
        devices = list(
            self.session.scalars(
                select(Device).where(Device.site_id == site_id).with_for_update()
            )
        )
        for device in devices:
            self.session.delete(device)
        self.session.flush()
        return devices

    # -- sites -----------------------------------------------------------------------

    def ensure_site(
        self, site_id: str, name: str, owner_id: str, values: dict
    ) -> Site | None:
        """The site ``site_id``, created with ``owner_id`` its owner unless it
        exists; the new site, or None if it existed. A concurrent transaction
        creating the same one waits on the first's insert, then finds it made."""
        now = utcnow()
        created = self.session.scalars(
            insert(Site)
            .values(id=site_id, name=name, created_at=now, updated_at=now, **values)
            .on_conflict_do_nothing(index_elements=[Site.id])
            .returning(Site.id)
        ).one_or_none()
        if created is None:
            return None
        self.session.add(SiteMember(site_id=site_id, user_id=owner_id, role=SITE_OWNER))
        self.session.flush()
        return self.get_site(site_id)

    def add_site(self, owner_id: str, values: dict) -> Site:
        site = Site(**values)
        site.members.append(SiteMember(user_id=owner_id, role=SITE_OWNER))
        self.session.add(site)
        self.session.flush()
        return site

    def get_site(self, site_id: str, lock: bool = False) -> Site:
        """The site; locked until the transaction ends with ``lock`` (its members
        change: two changes at once could each leave the other's owner the last)."""
        site = None
        if is_id(site_id):
            query = select(Site).where(Site.id == site_id)
            if lock:
                query = query.with_for_update().execution_options(
                    populate_existing=True
                )
            site = self.session.scalars(query).one_or_none()
        if site is None:
            raise SiteNotFound()
        return site

    def list_sites(self, user_id: str | None = None) -> list[Site]:
        """Every site, or those ``user_id`` is a member of, oldest first."""
        query = select(Site).order_by(Site.created_at, Site.id)
        if user_id is not None:
            query = query.where(
                Site.id.in_(
                    select(SiteMember.site_id).where(SiteMember.user_id == user_id)
                )
            )
        return list(self.session.scalars(query))

    def sites_after(self, after: str | None, limit: int) -> list[Site]:
        """Up to ``limit`` sites in id order, after ``after``: every site, a page
        at a time."""
        query = select(Site).order_by(Site.id).limit(limit)
        if after is not None:
            query = query.where(Site.id > after)
        return list(self.session.scalars(query))

    def site_roles_of(self, user_id: str) -> dict[str, str]:
        """``{site_id: role}`` of every site ``user_id`` is a member of."""
        rows = self.session.execute(
            select(SiteMember.site_id, SiteMember.role).where(
                SiteMember.user_id == user_id
            )
        )
        return {site_id: role for site_id, role in rows}

    def site_roles_on(
        self, user_id: str, device_ids: list[str] | None
    ) -> dict[str, str]:
        """``{device_id: role}`` of the devices (None: any) on a site ``user_id``
        is a member of."""
        query = (
            select(Device.id, SiteMember.role)
            .join(SiteMember, SiteMember.site_id == Device.site_id)
            .where(SiteMember.user_id == user_id)
        )
        if device_ids is not None:
            ids = [device_id for device_id in device_ids if is_id(device_id)]
            if not ids:
                return {}
            query = query.where(Device.id.in_(ids))
        return {device_id: role for device_id, role in self.session.execute(query)}

    def site_role(self, site_id: str, user_id: str) -> str | None:
        """``user_id``'s role on the site, or None for no member."""
        return self.session.scalar(
            select(SiteMember.role).where(
                SiteMember.site_id == site_id, SiteMember.user_id == user_id
            )
        )

    def update_site(self, site: Site, changes: dict) -> Site:
        for field in SITE_FIELDS:
            if field in changes:
                setattr(site, field, changes[field])
        site.updated_at = utcnow()
        self.session.flush()
        return site

    def delete_site(self, site: Site) -> None:
        """The site, its members and rooms; its devices must be gone already."""
        self.session.delete(site)
        self.session.flush()

    def set_member(self, site: Site, user_id: str, role: str) -> SiteMember:
        member = next((m for m in site.members if m.user_id == user_id), None)
        if member is None:
            member = SiteMember(user_id=user_id, role=role)
            site.members.append(member)
        member.role = role
        site.updated_at = utcnow()
        self.session.flush()
        return member

    def remove_member(self, site: Site, member: SiteMember) -> None:
        site.members.remove(member)
        site.updated_at = utcnow()
        self.session.flush()

    def sites_of_member(self, user_id: str) -> list[Site]:
        """The sites ``user_id`` is a member of, locked, in a fixed order (so that
        two cascades lock them alike)."""
        return list(
            self.session.scalars(
                select(Site)
                .where(
                    Site.id.in_(
                        select(SiteMember.site_id).where(SiteMember.user_id == user_id)
                    )
                )
                .order_by(Site.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )

    # -- rooms -----------------------------------------------------------------------

    def add_room(self, site: Site, name: str) -> Room:
        room = Room(site_id=site.id, name=name)
        self.session.add(room)
        self.session.flush()
        return room

    def get_room(self, room_id: str) -> Room:
        room = self.session.get(Room, room_id) if is_id(room_id) else None
        if room is None:
            raise RoomNotFound()
        return room

    def list_rooms(self, site_id: str) -> list[Room]:
        return list(
            self.session.scalars(
                select(Room)
                .where(Room.site_id == site_id)
                .order_by(Room.created_at, Room.id)
            )
        )

    def update_room(self, room: Room, changes: dict) -> Room:
        if "name" in changes:
            room.name = changes["name"]
        room.updated_at = utcnow()
        self.session.flush()
        return room

    def delete_room(self, room: Room) -> list[Device]:
        """The room, deleted; its devices, now in no room of their site."""
        devices = list(
            self.session.scalars(
                select(Device).where(Device.room_id == room.id).with_for_update()
            )
        )
        for device in devices:
            device.room_id = None
        self.session.flush()
        self.session.delete(room)
        self.session.flush()
        return devices

    # -- commands ------------------------------------------------------------------
    #
    # A command's status changes only through ``_move``: one UPDATE whose WHERE
    # names the statuses it may come from (``commands.MOVES``). Two workers or
    # processes moving the same command (an ack redelivered, two timers expiring)
    # are ordered by its row lock, and the second finds it moved already and
    # changes nothing; so a change is recorded, and announced, once.

    def add_command(
        self,
        device: Device,
        type_: str,
        params: dict,
        created_by: str,
        now: datetime,
        expires_at: datetime,
    ) -> Command:
        command = Command(
            device_id=device.id,
            user_id=device.user_id,
            type=type_,
            params=params,
            status=PENDING,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            updated_at=now,
            attempts=0,
            # Being sent now: the timer's resending leaves it alone for a while.
            sent_at=now,
        )
        self.session.add(command)
        self.session.flush()
        self._record(command, now)
        return command

    def get_command(self, command_id: str) -> Command | None:
        return self.session.get(Command, command_id) if is_id(command_id) else None

    def get_commands(self, command_ids: list[str]) -> list[Command]:
        """Those of ``command_ids`` that name a command."""
        wanted = [command_id for command_id in command_ids if is_id(command_id)]
        if not wanted:
            return []
        return list(self.session.scalars(select(Command).where(Command.id.in_(wanted))))

    def settings_before(self, device_ids: list[str], before: datetime) -> list[Command]:
        """Of each device and command type, the newest command created before
        ``before`` that its device acknowledged: what the device was last set to."""
        wanted = [device_id for device_id in device_ids if is_id(device_id)]
        if not wanted:
            return []
        return list(
            self.session.scalars(
                select(Command)
                .distinct(Command.device_id, Command.type)
                .where(
                    Command.device_id.in_(wanted),
                    Command.status == ACKED,
                    Command.created_at < before,
                )
                .order_by(Command.device_id, Command.type, Command.created_at.desc())
            )
        )

    def refresh(self, command: Command) -> None:
        """The command as stored now."""
        self.session.refresh(command)

    def lock_pending(self, command_id: str) -> Command | None:
        """The command, locked until the transaction ends, if it is still pending."""
        return self.session.scalars(
            select(Command)
            .where(Command.id == command_id, Command.status == PENDING)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()

    def pending_to_send(
        self, now: datetime, device_id: str | None = None
    ) -> list[Command]:
        """Pending commands not expired, oldest first, locked; those another worker
        is sending are skipped rather than waited for. Of one device, if named: all
        of them (it just came online); else those due again, each
        ``RESEND_FIRST_S`` seconds after its first send, then twice as long after
        each until ``RESEND_MOST_S``, so a device that stays away costs little."""
        query = select(Command).where(
            Command.status == PENDING, Command.expires_at > now
        )
        if device_id is not None:
            query = query.where(Command.device_id == device_id)
        else:
            wait = func.least(
                RESEND_FIRST_S * func.power(2, func.greatest(Command.attempts - 1, 0)),
                RESEND_MOST_S,
            )
            query = query.where(
                Command.sent_at + func.make_interval(0, 0, 0, 0, 0, 0, wait) <= now
            )
        return list(
            self.session.scalars(
                query.order_by(Command.created_at, Command.id)
                .limit(RESEND_BATCH)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
        )

    def note_sent(self, command: Command, now: datetime, routed: bool) -> None:
        """Count a publish to the device; one that no queue took says so in the
        detail of a command still pending."""
        values = {"attempts": Command.attempts + 1, "sent_at": now}
        if not routed:
            values["detail"] = case(
                (Command.status == PENDING, literal(NOT_ROUTED)),
                else_=Command.detail,
            )
        self.session.scalars(
            update(Command)
            .where(Command.id == command.id)
            .values(**values)
            .returning(Command)
            .execution_options(populate_existing=True, synchronize_session=False)
        ).all()

    def mark_delivered(self, command_id: str, now: datetime) -> Command | None:
        """``pending`` → ``delivered``; None if it was no longer pending."""
        moved = self._move(DELIVERED, None, now, Command.id == command_id)
        return moved[0] if moved else None

    def answer(self, ack: Ack, now: datetime) -> Command | None:
        """The device's answer, if its command still waited for one; None if it
        was answered (this ack again) or expired already."""
        moved = self._move(
            ack.status,
            ack.detail,
            now,
            Command.id == ack.command_id,
            Command.device_id == ack.device_id,
        )
        return moved[0] if moved else None

    def expire_due(self, now: datetime) -> list[Command]:
        """Commands still waiting at their ``expires_at``, now ``expired``: up to
        ``EXPIRE_BATCH``, those locked elsewhere skipped (another process expires
        them, or an answer is being stored), so two sweeps never wait on each
        other's rows, nor deadlock."""
        due = (
            select(Command.id)
            .where(Command.status.in_(OPEN), Command.expires_at <= now)
            .order_by(Command.expires_at)
            .limit(EXPIRE_BATCH)
            .with_for_update(skip_locked=True)
        )
        return self._move(
            EXPIRED, NO_ANSWER, now, Command.id.in_(due.scalar_subquery())
        )

    def list_commands(self, device_id: str, limit: int) -> list[Command]:
        """A device's latest commands, newest first."""
        return list(
            self.session.scalars(
                select(Command)
                .where(Command.device_id == device_id)
                .order_by(Command.created_at.desc(), Command.id.desc())
                .limit(limit)
            )
        )

    def histories(self, command_ids: list[str]) -> dict[str, list[CommandEvent]]:
        """Each command's changes, oldest first."""
        events = defaultdict(list)
        for event in self.session.scalars(
            select(CommandEvent)
            .where(CommandEvent.command_id.in_(command_ids))
            .order_by(CommandEvent.id)
        ):
            events[event.command_id].append(event)
        return events

    def _move(
        self, status: str, detail: str | None, now: datetime, *where
    ) -> list[Command]:
        statement = (
            update(Command)
            .where(Command.status.in_(MOVES[status]), *where)
            .values(status=status, detail=detail, updated_at=now)
            .returning(Command)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
        moved = list(self.session.scalars(statement))
        for command in moved:
            self._record(command, now)
        self.session.flush()
        return moved

    def _record(self, command: Command, at: datetime) -> None:
        self._reached.append(command.status)
        self.session.add(
            CommandEvent(
                command_id=command.id,
                status=command.status,
                detail=command.detail,
                at=at,
            )
        )
