"""devices: sites with their rooms and members, device CRUD with ownership, the
``site.*``, ``room.*`` and ``device.*`` events on ``ems.sync``, and the commands
devices are sent and answer.

Every call made for someone names its ``caller`` (``{"user_id", "role"}``, from the
verified token), and ``policies.py`` says what they may do: a device out of their
reach answers ``DeviceNotFound``, exactly like a missing one. A
device's credentials are its own broker user (``broker.py``), removed with it.

Every device is in a site (``sites.py``); the members of a site act on its devices
by their role there, besides the device's owner. A device created without a site
goes to its owner's default site, made then if need be.

A command (``commands.py``: the types each kind takes, and how a status moves) is
stored ``pending``, sent to its device (``delivery.py``), ``delivered`` once the
broker holds it in a queue of the device's, and then ``acked`` or ``rejected`` by
the device's answer on ``devices.acks``, or ``expired`` by the timer. Each change
is committed, then pushed as ``command.updated``.
"""

from datetime import UTC, datetime, timedelta

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import pushes
from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED, ValidationFailed
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher, Pusher, consume, consume_keyed
from services.common.policy import listing_owner, permissions
from services.common.rpc import TimedRpcProxy
from services.common.schemas import is_id, load
from services.common.topology import (
    ACKS,
    COMMANDS,
    DATA,
    DEVICES_COMMAND_ACKS,
    DEVICES_PRESENCE,
    DEVICES_USER_CREATED,
    DEVICES_USER_DELETED,
    STATUS,
    SYNC,
    device_command_queue,
    device_key,
    device_of_key,
    mqtt_ack_topic,
    mqtt_command_topic,
    mqtt_reading_topic,
    reading_key,
)
from services.devices import commands, policies, sites
from services.devices.broker import BrokerAccounts
from services.devices.delivery import CommandSender
from services.devices.exceptions import (
    DeviceKindLocked,
    DeviceLimitReached,
    DeviceNotFound,
    InvalidAck,
    LastOwner,
    MemberNotFound,
    RoomNotFound,
    SiteNotFound,
)
from services.devices.schemas import (
    CommandTypeSchema,
    DeviceCommandEventSchema,
    DeviceCommandIssueSchema,
    DeviceCommandListQuerySchema,
    DeviceCommandRequestSchema,
    DeviceCommandSchema,
    DeviceCreateSchema,
    DeviceCredentialsSchema,
    DeviceListQuerySchema,
    DeviceSchema,
    DeviceUpdateSchema,
    MemberAddSchema,
    MemberRoleSchema,
    RoomCreateSchema,
    RoomSchema,
    RoomUpdateSchema,
    SiteCreateSchema,
    SiteListQuerySchema,
    SiteMemberViewSchema,
    SiteSchema,
    SiteUpdateSchema,
)
from services.devices.storage import DeviceStore

device_schema = DeviceSchema()
site_schema = SiteSchema()
room_schema = RoomSchema()
member_schema = SiteMemberViewSchema()
credentials_schema = DeviceCredentialsSchema()
command_schema = DeviceCommandSchema()
event_schema = DeviceCommandEventSchema()

#: Seconds between the timer's rounds: commands expire at most this late.
SWEEP_INTERVAL = 1


def _now() -> datetime:
    return datetime.now(UTC)


#: Devices a user may own when ``DEVICES.max_per_user`` is not set.
DEFAULT_MAX_PER_USER = 100


def _person(user: dict | None) -> dict:
    """The name and e-mail address of a member, as users knows them (none for a
    user users no longer knows)."""
    user = user or {}
    return {"name": user.get("name"), "email": user.get("email")}


class DevicesService(HealthMixin):
    name = "devices"

    storage = Database(DeviceStore)
    dispatch = Dispatcher(SYNC)
    audit = Audit()
    push = Pusher()
    send_to_device = CommandSender()
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
        if "site_id" in data:
            site_id = self._changeable_site(caller, data["site_id"]).id
        else:
            site_id = self._default_site(owner_id).id
        room_id = self._room_of(site_id, data["room_id"])
        device = self.storage.add_device(
            owner_id,
            data["name"],
            data["kind"],
            limit,
            data["reading_interval_s"],
            data["latitude"],
            data["longitude"],
            site_id=site_id,
            room_id=room_id,
        )
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
        """The caller's devices and those of their sites; everyone's (or one
        owner's) for those who read all; of one site or room if asked."""
        query = load(DeviceListQuerySchema(), query or {})
        roles = self.storage.site_roles_of(caller["user_id"])
        where = {"site_id": query.get("site_id"), "room_id": query.get("room_id")}
        if policies.READ_ALL.allows(caller):
            owner = listing_owner(caller, policies.READ_ALL, query.get("user_id"))
            listed = self.storage.list_devices(owner, **where)
        else:
            listed = self.storage.list_devices(
                reachable_by=(caller["user_id"], list(roles)), **where
            )
        return [self._view(device, caller, roles) for device in listed]

    @rpc(expected_exceptions=EXPECTED)
    def update_device(self, caller, device_id, body):
        """Change a device; its kind only while trading holds nothing for it.

        A sell order is accepted for a generating device (pv, battery) and settled
        against what that device meters: were a meter allowed to become a pv with
        orders open or trades unsettled, consumption would be sold as generation.
        """
        changes = load(DeviceUpdateSchema(), body)
        device = self._allowed(policies.UPDATE, caller, device_id, lock=True)
        if "site_id" in changes or "room_id" in changes:
            changes |= self._placement(caller, device, changes)
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
    def issue_credentials(self, caller, device_id, client=None):
        """New broker credentials for the device, replacing any it had.

        The password is returned only here; the broker keeps its hash. The
        rotation is recorded in the audit log (never the password).
        """
        device = self._allowed(policies.ISSUE_CREDENTIALS, caller, device_id)
        credentials = self.broker.issue(device.id)
        self.audit(
            caller,
            "devices.credentials_rotated",
            "device",
            device.id,
            {"username": credentials.username},
            client,
        )
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
                    "ack_topic": mqtt_ack_topic(device.id),
                },
                "amqp": {
                    "vhost": vhost,
                    "exchange": DATA.name,
                    "routing_key": reading_key(device.id),
                    "command_queue": device_command_queue(device.id).name,
                    "command_routing_key": device_key(device.id, COMMANDS),
                    "ack_routing_key": device_key(device.id, ACKS),
                },
            }
        )

    @rpc(expected_exceptions=EXPECTED)
    def delete_device(self, caller, device_id, client=None):
        device = self._allowed(policies.DELETE, caller, device_id)
        payload = device_schema.dump(device)
        self.storage.delete_device(device)
        self.dispatch("device.deleted", {"device": payload})
        self.audit(
            caller,
            "devices.deleted",
            "device",
            device.id,
            {
                "name": device.name,
                "owner_id": device.user_id,
                "site_id": device.site_id,
            },
            client,
        )
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
        # Their memberships go; a site left without an owner goes with its rooms
        # and devices, any other is announced with its members as they are now.
        for site in self.storage.sites_of_member(user_id):
            member = next(m for m in site.members if m.user_id == user_id)
            self.storage.remove_member(site, member)
            if sites.owners(site.members):
                self.dispatch("site.updated", {"site": site_schema.dump(site)})
            else:
                self._delete_site(site)
        self.storage.commit()

    @consume(DEVICES_USER_CREATED)
    def handle_user_created(self, body):
        """A new account's default site, made once however often the event
        comes."""
        self._default_site(body["user"]["id"])
        self.storage.commit()

    # -- sites, rooms, members -------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_sites(self, caller, query=None):
        """The sites the caller is a member of; every site (or one user's) for
        those who read all."""
        requested = load(SiteListQuerySchema(), query or {}).get("user_id")
        member = listing_owner(caller, policies.READ_ALL_SITES, requested)
        roles = self.storage.site_roles_of(caller["user_id"])
        return [
            self._site_view(site, caller, roles.get(site.id))
            for site in self.storage.list_sites(member)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def create_site(self, caller, body):
        """A new site, of which the caller is the owner."""
        policies.CREATE_SITE.require(caller)
        data = load(SiteCreateSchema(), body)
        values = sites.defaults(self.config.get("DEVICES", {})) | data
        site = self.storage.add_site(caller["user_id"], values)
        self.dispatch("site.created", {"site": site_schema.dump(site)})
        self.storage.commit()
        return self._site_view(site, caller, policies.SITE_OWNER)

    @rpc(expected_exceptions=EXPECTED)
    def get_site(self, caller, site_id):
        site, role = self._site_allowed(policies.READ_SITE, caller, site_id)
        return self._site_view(site, caller, role)

    @rpc(expected_exceptions=EXPECTED)
    def describe_site(self, site_id):
        """A site, for other services (which serve no caller of their own)."""
        return site_schema.dump(self.storage.get_site(site_id))

    @rpc(expected_exceptions=EXPECTED)
    def site_roles(self, user_id, device_ids=None):
        """``{device_id: role}``: ``user_id``'s role on the site of each of the
        devices (``None``: every device of every site they are a member of), for
        services that let a site's people act on its devices' objects
        (batteries)."""
        return self.storage.site_roles_on(
            user_id, None if device_ids is None else list(device_ids)
        )

    @rpc(expected_exceptions=EXPECTED)
    def site_inventory(self, after=None, limit=100):
        """Every site with its rooms and devices, a page of ``limit`` (at most
        500) sites after the site ``after``: ``[{site, rooms, devices}]`` in site
        id order, for a service that keeps a copy of them all and starts after
        their events were published (alarms)."""
        limit = max(1, min(int(limit), 500))
        return [
            {
                "site": site_schema.dump(site),
                "rooms": room_schema.dump(self.storage.list_rooms(site.id), many=True),
                "devices": device_schema.dump(
                    self.storage.list_devices(site_id=site.id), many=True
                ),
            }
            for site in self.storage.sites_after(after, limit)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def sites_of(self, user_id):
        """The sites a user is a member of, for other services."""
        return site_schema.dump(self.storage.list_sites(user_id), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def update_site(self, caller, site_id, body):
        changes = load(SiteUpdateSchema(), body)
        site, role = self._site_allowed(policies.UPDATE_SITE, caller, site_id)
        site = self.storage.update_site(site, changes)
        self.dispatch("site.updated", {"site": site_schema.dump(site)})
        self.storage.commit()
        return self._site_view(site, caller, role)

    @rpc(expected_exceptions=EXPECTED)
    def delete_site(self, caller, site_id, client=None):
        """The site, its rooms and its devices (each announced ``device.deleted``,
        its broker login revoked), then ``site.deleted``."""
        site, _ = self._site_allowed(policies.DELETE_SITE, caller, site_id, lock=True)
        name = site.name
        deleted = self._delete_site(site)
        self.audit(
            caller,
            "devices.site_deleted",
            "site",
            site_id,
            {"name": name, "devices": deleted},
            client,
        )
        self.storage.commit()

    @rpc(expected_exceptions=EXPECTED)
    def list_rooms(self, caller, site_id):
        site, _ = self._site_allowed(policies.READ_SITE, caller, site_id)
        return room_schema.dump(self.storage.list_rooms(site.id), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def create_room(self, caller, site_id, body):
        data = load(RoomCreateSchema(), body)
        site, _ = self._site_allowed(policies.MANAGE_ROOMS, caller, site_id)
        room = self.storage.add_room(site, data["name"])
        payload = room_schema.dump(room)
        self.dispatch("room.created", {"room": payload})
        self.storage.commit()
        return payload

    @rpc(expected_exceptions=EXPECTED)
    def update_room(self, caller, room_id, body):
        changes = load(RoomUpdateSchema(), body)
        room = self._room_allowed(caller, room_id)
        payload = room_schema.dump(self.storage.update_room(room, changes))
        self.dispatch("room.updated", {"room": payload})
        self.storage.commit()
        return payload

    @rpc(expected_exceptions=EXPECTED)
    def delete_room(self, caller, room_id):
        """The room; its devices stay in its site, in no room, each announced
        ``device.updated``."""
        room = self._room_allowed(caller, room_id)
        payload = room_schema.dump(room)
        for device in self.storage.delete_room(room):
            self.dispatch("device.updated", {"device": device_schema.dump(device)})
        self.dispatch("room.deleted", {"room": payload})
        self.storage.commit()

    @rpc(expected_exceptions=EXPECTED)
    def list_members(self, caller, site_id):
        """A site's members with their names and e-mail addresses."""
        site, _ = self._site_allowed(policies.READ_SITE, caller, site_id)
        members = [{"user_id": m.user_id, "role": m.role} for m in site.members]
        found = self.users_rpc.describe_users([m["user_id"] for m in members])
        people = {user["id"]: user for user in found}
        return [
            member_schema.dump(member | _person(people.get(member["user_id"])))
            for member in members
        ]

    @rpc(expected_exceptions=EXPECTED)
    def add_member(self, caller, site_id, body, client=None):
        """Someone made a member, found by their e-mail address (users)."""
        data = load(MemberAddSchema(), body)
        site, _ = self._site_allowed(
            policies.MANAGE_MEMBERS, caller, site_id, lock=True
        )
        user = self.users_rpc.describe_user_by_email(data["email"])
        return self._set_member(site, user, data["role"], caller, client)

    @rpc(expected_exceptions=EXPECTED)
    def set_member(self, caller, site_id, user_id, body, client=None):
        """A member's role, or a new member's, by their id."""
        role = load(MemberRoleSchema(), body)["role"]
        site, _ = self._site_allowed(
            policies.MANAGE_MEMBERS, caller, site_id, lock=True
        )
        user = self.users_rpc.describe_user(user_id)
        return self._set_member(site, user, role, caller, client)

    @rpc(expected_exceptions=EXPECTED)
    def remove_member(self, caller, site_id, user_id, client=None):
        """A member removed by an owner (or ADMIN), or leaving; never the last
        owner."""
        site, role = self._site_allowed(policies.READ_SITE, caller, site_id, lock=True)
        if user_id != caller["user_id"] or role is None:
            policies.MANAGE_MEMBERS.require(
                caller, refusal=SiteNotFound(), site_role=role
            )
        member = next((m for m in site.members if m.user_id == user_id), None)
        if member is None:
            raise MemberNotFound()
        if sites.owners(site.members) == {user_id}:
            raise LastOwner()
        removed_role = member.role
        self.storage.remove_member(site, member)
        self.dispatch("site.updated", {"site": site_schema.dump(site)})
        self.audit(
            caller,
            "devices.member_removed",
            "site",
            site.id,
            {"user_id": user_id, "role": removed_role},
            client,
        )
        self.storage.commit()

    # -- commands --------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def send_command(self, caller, device_id, body, client=None):
        """A command from a user (``POST /api/devices/{id}/commands``, or a
        ``command.send`` over their socket): the command, pending or delivered,
        recorded in the audit log."""
        request = load(DeviceCommandRequestSchema(), body)
        device = self._allowed(policies.COMMAND, caller, device_id)
        return self._issue(device, request, caller["user_id"], caller, client)

    @rpc(expected_exceptions=EXPECTED)
    def issue_command(self, device_id, type, params, ttl_s, issued_by):
        """A command another service issues, acting for no one (batteries' auto
        mode as ``batteries``, a DR dispatch as ``dr:<event id>``), which has
        decided already that it may: the command, as ``send_command`` answers."""
        request = load(
            DeviceCommandIssueSchema(),
            {"type": type, "params": params, "ttl_s": ttl_s, "issued_by": issued_by},
        )
        device = self.storage.get_device(device_id)
        return self._issue(device, request, request["issued_by"])

    @rpc(expected_exceptions=EXPECTED)
    def get_commands(self, command_ids):
        """Commands where they stand now, for the services that issued them (dr
        shows what its dispatch's devices answered, batteries what auto mode's
        setpoints came to); ids that name no command are left out."""
        return command_schema.dump(self.storage.get_commands(command_ids), many=True)

    @rpc
    def settings_before(self, device_ids, before):
        """What each device was last set to before ``before`` (ISO 8601), for a
        service that must give it back (dr at an event's end): ``{device_id:
        {type: params}}`` from the newest command of each type its device
        acknowledged. A device never commanded is left out."""
        settings: dict[str, dict] = {}
        for command in self.storage.settings_before(
            device_ids, datetime.fromisoformat(before)
        ):
            settings.setdefault(command.device_id, {})[command.type] = command.params
        return settings

    @rpc(expected_exceptions=EXPECTED)
    def command_types(self, caller):
        """The catalogue (``commands.py``) as clients read it: each type, the kinds
        that take it and its parameters' types, bounds and units. The same for
        every caller."""
        return CommandTypeSchema(many=True).dump(commands.describe_all())

    @rpc(expected_exceptions=EXPECTED)
    def list_commands(self, caller, device_id, query=None):
        """A device's latest commands, newest first, each with its history."""
        limit = load(DeviceCommandListQuerySchema(), query or {})["limit"]
        device = self._allowed(policies.READ, caller, device_id)
        listed = self.storage.list_commands(device.id, limit)
        histories = self.storage.histories([command.id for command in listed])
        return [
            command_schema.dump(command)
            | {"history": event_schema.dump(histories.get(command.id, []), many=True)}
            for command in listed
        ]

    @consume_keyed(DEVICES_COMMAND_ACKS)
    def handle_command_ack(self, body, routing_key):
        """A device's answer, ``ems.devices.<id>.acks``: the command becomes
        ``acked`` or ``rejected``, once. An ack again, or after the command
        expired, changes nothing; one that names no command of that device, or
        is not an ack at all, is dead-lettered with why. Answers are handled by
        concurrent workers: of two in flight for one command, the first stored
        counts (the update is conditional on the command still waiting)."""
        ack = commands.parse_ack(body, routing_key)
        command = self.storage.get_command(ack.command_id)
        if command is None or command.device_id != ack.device_id:
            raise InvalidAck(f"no command {ack.command_id} of device {ack.device_id}")
        answered = self.storage.answer(ack, _now())
        self.storage.commit()
        if answered is not None:
            self._announce([answered])

    @consume_keyed(DEVICES_PRESENCE)
    def handle_device_status(self, body, routing_key):
        """A device says it is online (``ems/devices/<id>/status`` ``{"online":
        true}``, as it connects): its pending commands go to it now, rather than
        at the timer's next round. Any other presence message says nothing here
        (monitoring keeps presence, and judges it)."""
        device_id = device_of_key(routing_key, STATUS)
        if not is_id(device_id) or not commands.came_online(body):
            return
        now = _now()
        self._send(self.storage.pending_to_send(now, device_id), now)

    @timer(interval=SWEEP_INTERVAL)
    def sweep_commands(self):
        """Expire the commands whose time ran out without an answer, and send again
        those still pending. Every devices process runs it: each expiry is one
        UPDATE, so two processes never expire, nor announce, a command twice, and
        a command one process is sending, the other skips."""
        now = _now()
        expired = self.storage.expire_due(now)
        self.storage.commit()
        self._announce(expired)
        self._send(self.storage.pending_to_send(now), now)

    def _issue(
        self,
        device,
        request: dict,
        created_by: str,
        caller: dict | None = None,
        client: str | None = None,
    ) -> dict:
        """Store a command and send it. A person's (``caller``) is recorded in the
        audit log; the platform's own (auto mode, DR dispatches) are many and
        each service keeps them already."""
        params = commands.load_params(device.kind, request["type"], request["params"])
        now = _now()
        command = self.storage.add_command(
            device,
            request["type"],
            params,
            created_by,
            now,
            now + timedelta(seconds=request["ttl_s"]),
        )
        if caller is not None:
            self.audit(
                caller,
                "devices.command_issued",
                "device",
                device.id,
                {"command_id": command.id, "type": command.type, "params": params},
                client,
            )
        # Committed before it is sent, so that the device's answer finds it.
        self.storage.commit()
        self._announce([command])
        locked = self.storage.lock_pending(command.id)
        if locked is None:
            # Sent already (its device came online) or even answered: as it is.
            self.storage.refresh(command)
        else:
            self._send([locked], _now())
        return command_schema.dump(command)

    def _send(self, pending: list, now: datetime) -> None:
        """Send each of ``pending`` (locked by this transaction) to its device; those
        the broker took are ``delivered``. Commits."""
        delivered = []
        for command in pending:
            routed = self.send_to_device(command, now)
            self.storage.note_sent(command, now, routed)
            if routed and (moved := self.storage.mark_delivered(command.id, now)):
                delivered.append(moved)
        self.storage.commit()
        self._announce(delivered)

    def _announce(self, changed: list) -> None:
        """``command.updated`` to each command's device owner, and to the user who
        sent it if someone else (staff)."""
        for command in changed:
            users = {command.user_id}
            if is_id(command.created_by):
                users.add(command.created_by)
            self.push(pushes.COMMAND_UPDATED, command, *sorted(users))

    def _allowed(self, policy, caller, device_id, lock: bool = False):
        """The device, if ``policy`` lets the caller act on it (as its owner, by
        their role on its site, or by their role); a device the caller may not act
        on answers like a missing one."""
        device = self.storage.get_device(device_id, lock=lock)
        role = self.storage.site_role(device.site_id, caller["user_id"])
        policy.require(caller, device.user_id, refusal=DeviceNotFound(), site_role=role)
        return device

    def _view(self, device, caller, roles: dict | None = None) -> dict:
        """The device as the caller sees it: with what they may do with it, by
        their role on its site (from ``roles``, ``{site_id: role}``, when the
        caller's are known already)."""
        if roles is None:
            site_role = self.storage.site_role(device.site_id, caller["user_id"])
        else:
            site_role = roles.get(device.site_id)
        return device_schema.dump(device) | {
            "permissions": permissions(
                caller, device.user_id, *policies.ON_A_DEVICE, site_role=site_role
            )
        }

    def _site_allowed(self, policy, caller, site_id, lock: bool = False):
        """``(site, the caller's role on it)``, if ``policy`` lets the caller act
        on it; a site out of reach answers like a missing one."""
        site = self.storage.get_site(site_id, lock=lock)
        role = self.storage.site_role(site.id, caller["user_id"])
        policy.require(caller, refusal=SiteNotFound(), site_role=role)
        return site, role

    def _room_allowed(self, caller, room_id):
        """The room, if the caller may change its site's rooms."""
        room = self.storage.get_room(room_id)
        role = self.storage.site_role(room.site_id, caller["user_id"])
        policies.MANAGE_ROOMS.require(caller, refusal=RoomNotFound(), site_role=role)
        return room

    def _site_view(self, site, caller, site_role: str | None) -> dict:
        return site_schema.dump(site) | {
            "permissions": permissions(
                caller, None, *policies.ON_A_SITE, site_role=site_role
            )
        }

    def _changeable_site(self, caller, site_id):
        """A site the caller may put devices in."""
        site, _ = self._site_allowed(policies.UPDATE_SITE, caller, site_id)
        return site

    def _default_site(self, user_id: str):
        """``user_id``'s default site, made (and announced) if there is none."""
        site_id = sites.default_site_id(user_id)
        values = sites.defaults(self.config.get("DEVICES", {}))
        made = self.storage.ensure_site(site_id, sites.DEFAULT_NAME, user_id, values)
        if made is None:
            return self.storage.get_site(site_id)
        self.dispatch("site.created", {"site": site_schema.dump(made)})
        return made

    def _room_of(self, site_id: str, room_id: str | None) -> str | None:
        """``room_id``, checked to be a room of the site (400 if not)."""
        if room_id is None:
            return None
        if self.storage.get_room(room_id).site_id != site_id:
            raise ValidationFailed(
                "invalid request", {"room_id": ["not a room of the device's site"]}
            )
        return room_id

    def _placement(self, caller, device, changes: dict) -> dict:
        """Where a device is moved: ``{site_id, room_id}``, the new site one the
        caller may change, the room one of it. A device moved to another site
        leaves its room unless it is given one there."""
        site_id = changes.get("site_id", device.site_id)
        if site_id != device.site_id:
            self._changeable_site(caller, site_id)
            room_id = changes.get("room_id")
        else:
            room_id = changes.get("room_id", device.room_id)
        return {"site_id": site_id, "room_id": self._room_of(site_id, room_id)}

    def _delete_site(self, site) -> int:
        """The site's devices (announced, their logins revoked), then the site with
        its rooms and members, announced; how many devices went. The events go
        before the commit, as with a deleted user's devices."""
        devices = self.storage.delete_devices_of_site(site.id)
        for device in devices:
            self.dispatch("device.deleted", {"device": device_schema.dump(device)})
            self.broker.revoke(device.id)
        payload = site_schema.dump(site)
        self.storage.delete_site(site)
        self.dispatch("site.deleted", {"site": payload})
        return len(devices)

    def _set_member(self, site, user: dict, role: str, caller, client) -> dict:
        """``user`` given ``role`` on the site (locked), unless that leaves it
        without an owner; ``site.updated``, and a changed role recorded in the
        audit log."""
        if sites.owners(site.members) == {user["id"]} and role != policies.SITE_OWNER:
            raise LastOwner()
        before = next((m.role for m in site.members if m.user_id == user["id"]), None)
        member = self.storage.set_member(site, user["id"], role)
        self.dispatch("site.updated", {"site": site_schema.dump(site)})
        if before != role:
            self.audit(
                caller,
                "devices.member_role_changed",
                "site",
                site.id,
                {"user_id": user["id"], "from": before, "to": role},
                client,
            )
        self.storage.commit()
        return member_schema.dump(
            {"user_id": member.user_id, "role": member.role} | _person(user)
        )
