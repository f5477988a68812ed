"""alarmdb through SQLAlchemy: the copy of devices, rooms and sites, rules, alarms
and preferences."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from services.alarms import logic
from services.alarms.models import (
    Alarm,
    AlarmRule,
    HeldEmail,
    KnownDevice,
    KnownRoom,
    KnownSite,
    Preferences,
)
from services.common.db import Store


class AlarmStore(Store):
    # -- the copy of devices, rooms and sites ------------------------------------------

    def put_device(self, device: dict, updated_at: datetime) -> bool:
        """Keep a device as its event tells of it, unless what is kept is newer or
        deleted; whether it was kept."""
        values = {
            "user_id": device["user_id"],
            "name": device.get("name") or "device",
            "kind": device.get("kind"),
            "site_id": device.get("site_id"),
            "room_id": device.get("room_id"),
            "max_hourly_kwh": Decimal(str(device["max_hourly_kwh"])),
            "updated_at": updated_at,
        }
        statement = (
            insert(KnownDevice)
            .values(id=device["id"], **values)
            .on_conflict_do_update(
                index_elements=[KnownDevice.id],
                set_=values,
                where=and_(KnownDevice.updated_at <= updated_at, ~KnownDevice.deleted),
            )
            .returning(KnownDevice.id)
        )
        return self.session.execute(statement).first() is not None

    def forget_device(self, device_id: str, updated_at: datetime) -> None:
        """A deleted device: kept as deleted (a late change cannot bring it back),
        its rules gone."""
        statement = insert(KnownDevice).values(
            id=device_id,
            user_id="",
            name="",
            max_hourly_kwh=0,
            updated_at=updated_at,
            deleted=True,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[KnownDevice.id],
                set_={"deleted": True, "updated_at": updated_at},
            )
        )
        self.session.execute(delete(AlarmRule).where(AlarmRule.device_id == device_id))

    def device(self, device_id: str) -> KnownDevice | None:
        row = self.session.get(KnownDevice, device_id)
        return None if row is None or row.deleted else row

    def live_devices(self) -> list[KnownDevice]:
        return list(
            self.session.scalars(select(KnownDevice).where(~KnownDevice.deleted))
        )

    def put_site(self, site: dict, updated_at: datetime) -> None:
        values = {
            "name": site.get("name") or "site",
            "timezone": site.get("timezone") or "UTC",
            "members": [
                {"user_id": member["user_id"], "role": member["role"]}
                for member in site.get("members") or []
            ],
            "updated_at": updated_at,
        }
        self.session.execute(
            insert(KnownSite)
            .values(id=site["id"], **values)
            .on_conflict_do_update(
                index_elements=[KnownSite.id],
                set_=values,
                where=and_(KnownSite.updated_at <= updated_at, ~KnownSite.deleted),
            )
        )

    def forget_site(self, site_id: str, updated_at: datetime) -> None:
        self.session.execute(
            insert(KnownSite)
            .values(
                id=site_id,
                name="",
                timezone="UTC",
                members=[],
                updated_at=updated_at,
                deleted=True,
            )
            .on_conflict_do_update(
                index_elements=[KnownSite.id],
                set_={"deleted": True, "updated_at": updated_at},
            )
        )
        self.session.execute(delete(AlarmRule).where(AlarmRule.site_id == site_id))

    def site(self, site_id: str | None) -> KnownSite | None:
        row = site_id and self.session.get(KnownSite, site_id)
        return None if not row or row.deleted else row

    def sites(self, site_ids) -> dict[str, KnownSite]:
        ids = [site_id for site_id in set(site_ids) if site_id]
        if not ids:
            return {}
        rows = self.session.scalars(
            select(KnownSite).where(KnownSite.id.in_(ids), ~KnownSite.deleted)
        )
        return {row.id: row for row in rows}

    def put_room(self, room: dict) -> None:
        values = {"site_id": room["site_id"], "name": room.get("name") or "room"}
        self.session.execute(
            insert(KnownRoom)
            .values(id=room["id"], **values)
            .on_conflict_do_update(
                index_elements=[KnownRoom.id],
                set_=values,
                where=~KnownRoom.deleted,
            )
        )

    def forget_room(self, room_id: str) -> None:
        self.session.execute(
            insert(KnownRoom)
            .values(id=room_id, site_id="", name="", deleted=True)
            .on_conflict_do_update(
                index_elements=[KnownRoom.id], set_={"deleted": True}
            )
        )
        self.session.execute(delete(AlarmRule).where(AlarmRule.room_id == room_id))

    def room(self, room_id: str) -> KnownRoom | None:
        row = self.session.get(KnownRoom, room_id)
        return None if row is None or row.deleted else row

    def forget_user(self, user_id: str) -> None:
        """A deleted user's preferences, held e-mail and the rules they made
        (their devices' own go with the devices)."""
        self.session.execute(delete(Preferences).where(Preferences.user_id == user_id))
        self.session.execute(delete(HeldEmail).where(HeldEmail.user_id == user_id))
        self.session.execute(
            delete(AlarmRule).where(
                AlarmRule.user_id == user_id, ~AlarmRule.device_limit
            )
        )

    def site_ids_of(self, user_id: str) -> list[str]:
        """The sites ``user_id`` is a member of."""
        return list(
            self.session.scalars(
                select(KnownSite.id).where(
                    KnownSite.members.contains([{"user_id": user_id}]),
                    ~KnownSite.deleted,
                )
            )
        )

    # -- rules -------------------------------------------------------------------------

    def keep_device_limit(self, device: KnownDevice) -> None:
        """The rule of a device's own hourly limit, its threshold the device's
        ``max_hourly_kwh`` (its severity and whether it is enabled stay as set)."""
        self.session.execute(
            insert(AlarmRule)
            .values(
                id=logic.device_limit_rule_id(device.id),
                user_id=device.user_id,
                name=logic.DEVICE_LIMIT_NAME,
                type="energy_over",
                severity=logic.DEVICE_LIMIT_SEVERITY,
                enabled=True,
                device_id=device.id,
                threshold=device.max_hourly_kwh,
                device_limit=True,
            )
            .on_conflict_do_update(
                index_elements=[AlarmRule.id],
                set_={"threshold": device.max_hourly_kwh, "user_id": device.user_id},
                where=AlarmRule.threshold != device.max_hourly_kwh,
            )
        )

    def enabled_rules(self) -> list[AlarmRule]:
        return list(
            self.session.scalars(
                select(AlarmRule)
                .where(AlarmRule.enabled)
                .order_by(AlarmRule.created_at, AlarmRule.id)
            )
        )

    def rule(self, rule_id: str, lock: bool = False) -> AlarmRule | None:
        return self.session.get(AlarmRule, rule_id, with_for_update=lock)

    def rules_applying_to(self, device: KnownDevice) -> list[AlarmRule]:
        """Every rule that covers ``device``: its own, its room's, its site's and
        those of its kind."""
        covers = [AlarmRule.device_id == device.id]
        if device.room_id:
            covers.append(AlarmRule.room_id == device.room_id)
        if device.site_id:
            covers.append(
                and_(
                    AlarmRule.site_id == device.site_id,
                    or_(AlarmRule.kind.is_(None), AlarmRule.kind == device.kind),
                )
            )
        if device.kind:
            covers.append(
                and_(
                    AlarmRule.site_id.is_(None),
                    AlarmRule.room_id.is_(None),
                    AlarmRule.device_id.is_(None),
                    AlarmRule.kind == device.kind,
                )
            )
        return list(
            self.session.scalars(
                select(AlarmRule)
                .where(or_(*covers))
                .order_by(AlarmRule.created_at, AlarmRule.id)
            )
        )

    def rules_of_site(self, site_id: str) -> list[AlarmRule]:
        """A site's rules: on the site, its rooms, its devices."""
        rooms = select(KnownRoom.id).where(KnownRoom.site_id == site_id)
        devices = select(KnownDevice.id).where(KnownDevice.site_id == site_id)
        return list(
            self.session.scalars(
                select(AlarmRule)
                .where(
                    or_(
                        AlarmRule.site_id == site_id,
                        AlarmRule.room_id.in_(rooms),
                        AlarmRule.device_id.in_(devices),
                    )
                )
                .order_by(AlarmRule.created_at, AlarmRule.id)
            )
        )

    def rules_made_by(self, user_id: str | None) -> list[AlarmRule]:
        """Rules made by ``user_id`` (every rule: None), the devices' own left out."""
        query = select(AlarmRule).where(~AlarmRule.device_limit)
        if user_id is not None:
            query = query.where(AlarmRule.user_id == user_id)
        return list(
            self.session.scalars(query.order_by(AlarmRule.created_at, AlarmRule.id))
        )

    def add_rule(self, values: dict) -> AlarmRule:
        rule = AlarmRule(**values)
        self.session.add(rule)
        self.session.flush()
        return rule

    def delete_rule(self, rule: AlarmRule) -> None:
        self.session.delete(rule)

    # -- alarms ------------------------------------------------------------------------

    def active_alarms(self, lock: bool = False) -> dict[tuple[str, str], Alarm]:
        query = select(Alarm).where(Alarm.active)
        if lock:
            query = query.with_for_update()
        return {
            (row.originator_id, row.type): row for row in self.session.scalars(query)
        }

    def held_back(self) -> set[tuple[str, str]]:
        """Originators and types whose last alarm someone cleared while its
        condition held, and whose condition has not ended since."""
        rows = self.session.execute(
            select(Alarm.originator_id, Alarm.type).where(~Alarm.rearmed)
        )
        return {(originator, kind) for originator, kind in rows}

    def rearm(self, keys: set[tuple[str, str]]) -> None:
        for originator_id, kind in keys:
            self.session.execute(
                update(Alarm)
                .where(
                    Alarm.originator_id == originator_id,
                    Alarm.type == kind,
                    ~Alarm.rearmed,
                )
                .values(rearmed=True)
            )

    def raise_alarm(self, values: dict) -> Alarm | None:
        """Insert an active alarm unless its originator already has an active one
        of its type (the unique index decides, whichever process asks first):
        the new alarm, or None."""
        row = self.session.execute(
            insert(Alarm)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=[Alarm.originator_id, Alarm.type],
                index_where=Alarm.active,
            )
            .returning(Alarm.id)
        ).first()
        return None if row is None else self.session.get(Alarm, row.id)

    def alarm(self, alarm_id: str, lock: bool = False) -> Alarm | None:
        return self.session.get(Alarm, alarm_id, with_for_update=lock)

    def _visible(self, user_id: str | None):
        if user_id is None:
            return True
        return or_(
            Alarm.user_id == user_id,
            Alarm.site_id.in_(
                select(KnownSite.id).where(
                    KnownSite.members.contains([{"user_id": user_id}])
                )
            ),
        )

    def alarms(self, viewer: str | None, query: dict) -> list[Alarm]:
        """Alarms ``viewer`` may see (None: every alarm) matching ``query``,
        newest first, one more than ``limit`` (to tell there is a next page)."""
        conditions = [self._visible(viewer)]
        status = query["status"]
        if status == "active":
            conditions.append(Alarm.active)
        elif status == "cleared":
            conditions.append(~Alarm.active)
        elif status == "ack":
            conditions.append(Alarm.acknowledged)
        elif status == "unack":
            # What the header counts: active, and nobody on it yet.
            conditions.extend([Alarm.active, ~Alarm.acknowledged])
        for field in ("site_id", "device_id", "type"):
            if query.get(field):
                conditions.append(getattr(Alarm, field) == query[field])
        if query.get("severity"):
            conditions.append(Alarm.severity.in_(query["severity"]))
        if query.get("before"):
            anchor = self.session.get(Alarm, query["before"])
            if anchor is not None:
                conditions.append(
                    (Alarm.started_at, Alarm.id) < (anchor.started_at, anchor.id)
                )
        return list(
            self.session.scalars(
                select(Alarm)
                .where(*conditions)
                .order_by(Alarm.started_at.desc(), Alarm.id.desc())
                .limit(query["limit"] + 1)
            )
        )

    def summary(self, viewer: str | None) -> dict:
        rows = self.session.execute(
            select(Alarm.severity, Alarm.acknowledged, func.count())
            .where(Alarm.active, self._visible(viewer))
            .group_by(Alarm.severity, Alarm.acknowledged)
        )
        by_severity = dict.fromkeys(logic.SEVERITIES, 0)
        unacknowledged = 0
        for severity, acknowledged, count in rows:
            by_severity[severity] = by_severity.get(severity, 0) + count
            if not acknowledged:
                unacknowledged += count
        return {
            "active": sum(by_severity.values()),
            "unacknowledged": unacknowledged,
            "by_severity": by_severity,
        }

    def alarms_since(self, viewer: str, since: datetime) -> list[Alarm]:
        """``viewer``'s alarms active now or started since ``since``, for a digest."""
        return list(
            self.session.scalars(
                select(Alarm)
                .where(
                    self._visible(viewer),
                    or_(Alarm.active, Alarm.started_at >= since),
                )
                .order_by(Alarm.started_at.desc())
                .limit(200)
            )
        )

    def active_by_severity(self) -> dict[str, int]:
        """``{severity: active alarms}``; a severity without any is left out."""
        rows = self.session.execute(
            select(Alarm.severity, func.count())
            .where(Alarm.active)
            .group_by(Alarm.severity)
        )
        return dict(rows.all())

    def active_counts(self, device_ids) -> dict[str, int]:
        rows = self.session.execute(
            select(Alarm.device_id, func.count())
            .where(Alarm.active, Alarm.device_id.in_(list(device_ids)))
            .group_by(Alarm.device_id)
        )
        return dict(rows.all())

    # -- preferences and e-mail --------------------------------------------------------

    def preferences(self, user_id: str) -> Preferences | None:
        return self.session.get(Preferences, user_id)

    def preferences_of(self, user_ids) -> dict[str, Preferences]:
        ids = list(set(user_ids))
        if not ids:
            return {}
        rows = self.session.scalars(
            select(Preferences).where(Preferences.user_id.in_(ids))
        )
        return {row.user_id: row for row in rows}

    def put_preferences(self, user_id: str, values: dict) -> Preferences:
        row = self.session.get(Preferences, user_id, with_for_update=True)
        if row is None:
            row = Preferences(user_id=user_id)
            self.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
        self.session.flush()
        return row

    def with_digest(self) -> list[Preferences]:
        return list(
            self.session.scalars(select(Preferences).where(Preferences.digest_enabled))
        )

    def claim_digest(self, user_id: str, day) -> bool:
        """Mark today's digest sent; False if another process did first."""
        row = self.session.execute(
            update(Preferences)
            .where(
                Preferences.user_id == user_id,
                or_(
                    Preferences.digest_sent_on.is_(None),
                    Preferences.digest_sent_on < day,
                ),
            )
            .values(digest_sent_on=day)
            .returning(Preferences.user_id)
        ).first()
        return row is not None

    def hold_email(self, user_id: str, alarm_id: str) -> None:
        self.session.execute(
            insert(HeldEmail)
            .values(user_id=user_id, alarm_id=alarm_id)
            .on_conflict_do_nothing()
        )

    def users_with_held_email(self) -> list[str]:
        return list(self.session.scalars(select(HeldEmail.user_id).distinct()))

    def take_held(self, user_id: str) -> list[Alarm]:
        """The alarms held for ``user_id``, no longer held."""
        ids = list(
            self.session.scalars(
                delete(HeldEmail)
                .where(HeldEmail.user_id == user_id)
                .returning(HeldEmail.alarm_id)
            )
        )
        if not ids:
            return []
        return list(
            self.session.scalars(
                select(Alarm).where(Alarm.id.in_(ids)).order_by(Alarm.started_at)
            )
        )
