"""alarms: rules watch devices and sites; the alarms they raise are acknowledged
and cleared by people, or clear themselves when the condition ends.

Every ``EVALUATE_SECONDS`` a round of the rules (``evaluation.py``) asks monitoring
and batteries what it needs for every rule at once, and decides, per originator
and type, the one alarm it has: raised when a rule's condition starts to hold,
kept (its value, message and severity following the most severe rule that holds)
while one does, cleared when none does. The database keeps at most one active
alarm per originator and type (a unique index on the active ones): however many
processes of the service run rounds, and whenever a message is redelivered, a
second is refused, not merely unlikely. A round runs in one process at a time
(an advisory lock: the others skip it).

Who hears of an alarm: its device's owner and its site's members. Each has
preferences: the severities pushed to the app (``alarm.created``;
``alarm.updated`` goes to all of them) and e-mailed (through the mail service),
quiet hours during which e-mail waits, and a daily digest at a local hour.

The devices, rooms and sites rules apply to are a copy kept from ``ems.sync`` and,
at start, from the devices service's inventory.
"""

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import text

from services.alarms import evaluation, logic, policies
from services.alarms.exceptions import (
    AlarmNotFound,
    DeviceLimitRule,
    RuleNotFound,
    RuleScopeNotFound,
)
from services.alarms.schemas import (
    AlarmActionSchema,
    AlarmPageSchema,
    AlarmQuerySchema,
    AlarmSchema,
    AlarmSummarySchema,
    PreferencesSchema,
    RuleCreateSchema,
    RuleQuerySchema,
    RuleSchema,
    RuleUpdateSchema,
    check_shape,
)
from services.alarms.storage import AlarmStore
from services.common import pushes
from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED, ValidationFailed
from services.common.health import HealthMixin
from services.common.mail import outgoing
from services.common.messaging import Dispatcher, Pusher, consume_keyed
from services.common.metrics import ALARMS_ACTIVE, ALARMS_ENDED, ALARMS_RAISED
from services.common.rpc import OPTIONAL_CALL_FAILURES, TimedRpcProxy
from services.common.schemas import is_id, load
from services.common.timers import configured_timer
from services.common.topology import ALARMS_SYNC, MAIL_SEND, SYNC

log = logging.getLogger(__name__)

alarm_schema = AlarmSchema()
rule_schema = RuleSchema()
#: Seconds between rounds of the rules, unless ``EVALUATE_SECONDS`` says.
EVALUATE_SECONDS = 10
#: Seconds between looks at held e-mail and digests due.
NOTIFY_SECONDS = 60
INVENTORY_PAGE = 100
DEFAULT_PREFERENCES = {
    "app_severities": list(logic.SEVERITIES),
    "email_severities": ["critical", "major"],
    "quiet_start": None,
    "quiet_end": None,
    "digest_enabled": False,
    "digest_hour": 8,
}


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _person(caller: dict, users: dict) -> dict:
    user = users.get(caller["user_id"]) or {}
    return {"id": caller["user_id"], "name": user.get("name") or ""}


class AlarmsService(HealthMixin):
    name = "alarms"

    storage = Database(AlarmStore)
    config = Config()
    monitoring_rpc = TimedRpcProxy("monitoring")
    batteries_rpc = TimedRpcProxy("batteries")
    devices_rpc = TimedRpcProxy("devices")
    users_rpc = TimedRpcProxy("users")
    push = Pusher()
    dispatch = Dispatcher(SYNC)
    audit = Audit()

    # -- alarms ------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_alarms(self, caller, query=None):
        """The alarms the caller may see, newest first, filtered; a page of
        ``limit`` with the cursor of the next."""
        query = load(AlarmQuerySchema(), query or {})
        viewer = None if policies.READ_ALL.allows(caller) else caller["user_id"]
        rows = self.storage.alarms(viewer, query)
        page, more = rows[: query["limit"]], len(rows) > query["limit"]
        roles = self._site_roles(caller, {row.site_id for row in page})
        return AlarmPageSchema().dump(
            {
                "alarms": [self._view(row, caller, roles) for row in page],
                "next": page[-1].id if more and page else None,
            }
        )

    @rpc(expected_exceptions=EXPECTED)
    def alarm_summary(self, caller):
        """The active alarms the caller may see, counted."""
        viewer = None if policies.READ_ALL.allows(caller) else caller["user_id"]
        return AlarmSummarySchema().dump(self.storage.summary(viewer))

    @rpc(expected_exceptions=EXPECTED)
    def acknowledge_alarm(self, caller, alarm_id, body=None, client=None):
        """Acknowledge an alarm, with an optional comment; an acknowledged one
        stays as it was. Recorded in the audit log."""
        return self._act(caller, alarm_id, body, policies.ACKNOWLEDGE, client)

    @rpc(expected_exceptions=EXPECTED)
    def clear_alarm(self, caller, alarm_id, body=None, client=None):
        """Clear an active alarm by hand, with an optional comment; while its
        condition holds no new alarm of its type is raised on its originator. A
        cleared one stays as it was. Recorded in the audit log."""
        return self._act(caller, alarm_id, body, policies.CLEAR, client)

    def _act(self, caller, alarm_id, body, policy, client):
        data = load(AlarmActionSchema(), body or {})
        alarm = is_id(alarm_id) and self.storage.alarm(alarm_id, lock=True)
        if not alarm:
            raise AlarmNotFound()
        role = self._site_roles(caller, {alarm.site_id}).get(alarm.site_id)
        # One the caller may not act on answers like a missing one.
        policy.require(caller, alarm.user_id, AlarmNotFound(), role)
        now = datetime.now(UTC)
        changed = False
        if policy is policies.ACKNOWLEDGE and not alarm.acknowledged:
            users = self._users([caller["user_id"]])
            alarm.acknowledged = True
            alarm.acknowledged_at = now
            alarm.acknowledged_by = _person(caller, users)
            changed = True
        elif policy is policies.CLEAR and alarm.active:
            users = self._users([caller["user_id"]])
            alarm.active = False
            alarm.ended_at = now
            alarm.cleared_by = _person(caller, users)
            # Until its condition ends, the round raises no new one in its place.
            alarm.rearmed = False
            changed = True
        if changed:
            if data["comment"] is not None:
                alarm.comment = data["comment"]
            alarm.updated_at = now
            self.storage.session.flush()
            self.audit(
                caller,
                "alarms.acknowledged"
                if policy is policies.ACKNOWLEDGE
                else "alarms.cleared",
                "alarm",
                alarm.id,
                {
                    "type": alarm.type,
                    "severity": alarm.severity,
                    "originator": alarm.originator_id,
                    "comment": data["comment"],
                },
                client,
            )
        self.storage.commit()
        if changed:
            self._count([], [] if alarm.active else [alarm])
            self._announce([], [alarm])
        return alarm_schema.dump(self._view(alarm, caller, {alarm.site_id: role}))

    @rpc(expected_exceptions=EXPECTED)
    def active_alarm_counts(self, device_ids):
        """``{device_id: active alarms}`` of these devices, for other services'
        figures (dashboards); a device without any is left out."""
        ids = [device_id for device_id in device_ids if is_id(device_id)]
        return self.storage.active_counts(ids) if ids else {}

    def _view(self, alarm, caller, roles: dict) -> dict:
        """The alarm as the caller is shown it (before ``AlarmSchema`` dumps it),
        with what they may do."""
        view = {
            column: getattr(alarm, column)
            for column in (
                "id",
                "type",
                "severity",
                "device_id",
                "site_id",
                "rule_id",
                "acknowledged",
                "started_at",
                "ended_at",
                "updated_at",
                "value",
                "threshold",
                "unit",
                "message",
                "acknowledged_by",
                "acknowledged_at",
                "cleared_by",
                "comment",
            )
        }
        view["originator"] = {
            "type": alarm.originator_type,
            "id": alarm.originator_id,
            "name": alarm.originator_name,
        }
        view["status"] = "active" if alarm.active else "cleared"
        role = roles.get(alarm.site_id)
        view["permissions"] = {
            "acknowledge": not alarm.acknowledged
            and policies.ACKNOWLEDGE.allows(caller, alarm.user_id, role),
            "clear": alarm.active
            and policies.CLEAR.allows(caller, alarm.user_id, role),
        }
        return view

    def _site_roles(self, caller, site_ids) -> dict:
        """The caller's role on each of the sites, from the copy."""
        sites = self.storage.sites(site_ids)
        return {
            site_id: _role_on(site, caller["user_id"])
            for site_id, site in sites.items()
        }

    # -- rules -------------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_rules(self, caller, query=None):
        """The rules that apply to a device (its own, its room's, its site's, its
        kind's), a site's rules, or the rules the caller made."""
        query = load(RuleQuerySchema(), query or {})
        if query["device_id"]:
            device = self._device(query["device_id"])
            role = self._site_roles(caller, {device.site_id}).get(device.site_id)
            policies.READ.require(caller, device.user_id, RuleScopeNotFound(), role)
            rules = self.storage.rules_applying_to(device)
        elif query["site_id"]:
            site = self._site(query["site_id"])
            role = self._site_roles(caller, {site.id}).get(site.id)
            policies.READ.require(caller, None, RuleScopeNotFound(), role)
            rules = self.storage.rules_of_site(site.id)
        else:
            rules = self.storage.rules_made_by(
                None if policies.READ_ALL.allows(caller) else caller["user_id"]
            )
        return [self._rule_view(rule, caller) for rule in rules]

    @rpc(expected_exceptions=EXPECTED)
    def create_rule(self, caller, body):
        policies.CREATE_RULES.require(caller)
        data = load(RuleCreateSchema(), body)
        site_id = self._require_manage(caller, data)
        if data["room_id"]:
            data["site_id"] = None
        rule = self.storage.add_rule(
            {**data, "user_id": caller["user_id"], "site_id": data["site_id"] or None}
        )
        self.storage.commit()
        log.info("rule %s (%s) on site %s", rule.id, rule.type, site_id)
        return self._rule_view(rule, caller)

    @rpc(expected_exceptions=EXPECTED)
    def update_rule(self, caller, rule_id, body):
        data = load(RuleUpdateSchema(), body)
        rule = self._rule(caller, rule_id, lock=True)
        if rule.device_limit and "threshold" in data:
            raise ValidationFailed(
                "this rule's threshold is the device's max_hourly_kwh",
                {"threshold": ["change max_hourly_kwh on the device"]},
            )
        merged = {
            "type": rule.type,
            "threshold": data.get("threshold", rule.threshold),
            "duration_min": data.get("duration_min", rule.duration_min),
        }
        errors = {}
        check_shape(merged, errors)
        if errors:
            raise ValidationFailed("invalid request", errors)
        for key, value in data.items():
            setattr(rule, key, value)
        self.storage.commit()
        return self._rule_view(rule, caller)

    @rpc(expected_exceptions=EXPECTED)
    def delete_rule(self, caller, rule_id):
        rule = self._rule(caller, rule_id, lock=True)
        if rule.device_limit:
            raise DeviceLimitRule(
                "a device's own limit rule goes with the device; disable it instead"
            )
        self.storage.delete_rule(rule)
        self.storage.commit()

    def _rule(self, caller, rule_id, lock=False):
        rule = is_id(rule_id) and self.storage.rule(rule_id, lock=lock)
        if not rule:
            raise RuleNotFound()
        owner, role, global_rule = self._rule_place(caller, rule)
        # One the caller may not change answers like a missing one.
        if global_rule:
            policies.MANAGE_GLOBAL_RULES.require(caller, refusal=RuleNotFound())
        else:
            policies.MANAGE_RULES.require(caller, owner, RuleNotFound(), role)
        return rule

    def _rule_place(self, caller, rule) -> tuple[str | None, str | None, bool]:
        """Whose the rule's object is, the caller's role on its site, and whether
        it is a rule on a kind everywhere."""
        site_id, owner = rule.site_id, None
        if rule.device_id:
            device = self.storage.device(rule.device_id)
            owner = device.user_id if device else rule.user_id
            site_id = device.site_id if device else None
        elif rule.room_id:
            room = self.storage.room(rule.room_id)
            site_id = room.site_id if room else None
        elif not site_id:
            return rule.user_id, None, True
        role = self._site_roles(caller, {site_id}).get(site_id) if site_id else None
        return owner, role, False

    def _require_manage(self, caller, data) -> str | None:
        """Whether the caller may add a rule where ``data`` puts it (the object
        must exist and be theirs to manage); the rule's site."""
        if data["device_id"]:
            device = self._device(data["device_id"])
            role = self._site_roles(caller, {device.site_id}).get(device.site_id)
            policies.MANAGE_RULES.require(
                caller, device.user_id, RuleScopeNotFound(), role
            )
            return device.site_id
        if data["room_id"]:
            room = self._room(data["room_id"])
            site_id = room.site_id
        elif data["site_id"]:
            site_id = self._site(data["site_id"]).id
        else:
            policies.MANAGE_GLOBAL_RULES.require(caller)
            return None
        role = self._site_roles(caller, {site_id}).get(site_id)
        policies.MANAGE_RULES.require(caller, None, RuleScopeNotFound(), role)
        return site_id

    def _rule_view(self, rule, caller) -> dict:
        owner, role, global_rule = self._rule_place(caller, rule)
        may = (
            policies.MANAGE_GLOBAL_RULES.allows(caller)
            if global_rule
            else policies.MANAGE_RULES.allows(caller, owner, role)
        )
        view = {
            column.name: getattr(rule, column.name)
            for column in rule.__table__.columns
            if column.name != "user_id"
        }
        view["permissions"] = {"update": may, "delete": may and not rule.device_limit}
        return rule_schema.dump(view)

    def _device(self, device_id):
        device = self.storage.device(device_id)
        if device is None:
            device = self._described("describe_device", device_id)
            if device is not None:
                self._keep_device(device)
                self.storage.commit()
                device = self.storage.device(device_id)
        if device is None:
            raise RuleScopeNotFound()
        return device

    def _site(self, site_id):
        site = self.storage.site(site_id)
        if site is None:
            described = self._described("describe_site", site_id)
            if described is not None:
                self.storage.put_site(described, _when(described["updated_at"]))
                self.storage.commit()
                site = self.storage.site(site_id)
        if site is None:
            raise RuleScopeNotFound()
        return site

    def _room(self, room_id):
        room = self.storage.room(room_id)
        if room is None:
            raise RuleScopeNotFound()
        return room

    def _described(self, method: str, object_id: str):
        """What the devices service says of an object the copy lacks (its event
        may still be on its way); None if it knows none."""
        try:
            return getattr(self.devices_rpc, method)(object_id)
        except EXPECTED:
            return None

    # -- preferences -------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def get_preferences(self, caller):
        return self._preferences_view(self.storage.preferences(caller["user_id"]))

    @rpc(expected_exceptions=EXPECTED)
    def put_preferences(self, caller, body):
        data = load(PreferencesSchema(), body)
        quiet = data["quiet_hours"] or {}
        values = {
            "app_severities": sorted(set(data["app_severities"]), key=logic.RANK.get),
            "email_severities": sorted(
                set(data["email_severities"]), key=logic.RANK.get
            ),
            "quiet_start": quiet.get("start"),
            "quiet_end": quiet.get("end"),
            "digest_enabled": data["digest"]["enabled"],
            "digest_hour": data["digest"]["hour"],
        }
        previous = self.storage.preferences(caller["user_id"])
        if values["digest_enabled"] and not (previous and previous.digest_enabled):
            # A digest switched on after today's hour starts tomorrow.
            local = datetime.now(self._zone(caller["user_id"]))
            if local.hour >= values["digest_hour"]:
                values["digest_sent_on"] = local.date()
        row = self.storage.put_preferences(caller["user_id"], values)
        self.storage.commit()
        return self._preferences_view(row)

    @staticmethod
    def _preferences_view(row) -> dict:
        values = _preferences(row)
        quiet = (
            {"start": values["quiet_start"], "end": values["quiet_end"]}
            if values["quiet_start"] and values["quiet_end"]
            else None
        )
        return {
            "app_severities": list(values["app_severities"]),
            "email_severities": list(values["email_severities"]),
            "quiet_hours": quiet,
            "digest": {
                "enabled": values["digest_enabled"],
                "hour": values["digest_hour"],
            },
        }

    def _zone(self, user_id: str) -> ZoneInfo:
        user = self._users([user_id]).get(user_id) or {}
        return _zone(user.get("time_zone"))

    def _users(self, user_ids) -> dict[str, dict]:
        """``{id: user}`` of those the users service knows; none when it cannot
        be asked."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        try:
            return {user["id"]: user for user in self.users_rpc.describe_users(ids)}
        except OPTIONAL_CALL_FAILURES as exc:
            log.warning("users unavailable: %s", exc)
            return {}

    # -- the rounds --------------------------------------------------------------------

    @configured_timer("EVALUATE_SECONDS", EVALUATE_SECONDS)
    def evaluate(self):
        """One round of every enabled rule."""
        now = datetime.now(UTC)
        rules = self.storage.enabled_rules()
        devices = {device.id: device for device in self.storage.live_devices()}
        coverage = evaluation.covered(rules, list(devices.values()))
        site_devices: dict[str, list[str]] = {}
        for device in devices.values():
            if device.site_id:
                site_devices.setdefault(device.site_id, []).append(device.id)
        sites = self.storage.sites(coverage.sites.keys())
        # No transaction stays open while the other services are asked.
        self.storage.commit()
        facts = evaluation.gather(
            coverage, site_devices, now, self.monitoring_rpc, self.batteries_rpc
        )
        found, originators = evaluation.observe_all(
            coverage, facts, devices, sites, site_devices, now
        )
        created, updated = self._apply(
            found, originators, evaluation.watched(coverage), now
        )
        self._count(created, [alarm for alarm in updated if not alarm.active])
        self._announce(created, updated)

    def _count(self, raised, ended) -> None:
        """Tell Prometheus of a round's (or a clear's) committed changes, and how
        many alarms are active now."""
        for alarm in raised:
            ALARMS_RAISED.labels(type=alarm.type, severity=alarm.severity).inc()
        for alarm in ended:
            ALARMS_ENDED.labels(type=alarm.type).inc()
        active = self.storage.active_by_severity()
        self.storage.commit()
        for severity in logic.SEVERITIES:
            ALARMS_ACTIVE.labels(severity=severity).set(active.get(severity, 0))

    def _apply(self, found, originators, watched, now):
        """Raise, update and clear alarms by what the rules found; the alarms
        raised and those changed."""
        if not self.storage.session.execute(
            text(
                "SELECT pg_try_advisory_xact_lock(hashtextextended('alarms.round', 0))"
            )
        ).scalar():
            self.storage.commit()
            return [], []
        active = self.storage.active_alarms(lock=True)
        held = self.storage.held_back()
        created, updated, ended = [], [], set()
        for key, observations in found.items():
            deciding = logic.deciding(observations)
            alarm = active.get(key)
            if deciding is None:
                ended.add(key)
                if alarm is not None:
                    self._end(alarm, now)
                    updated.append(alarm)
                continue
            if alarm is None:
                if key in held:
                    continue
                raised = self._raise(originators[key[0]], deciding, now)
                if raised is not None:
                    created.append(raised)
                continue
            alarm.value, alarm.message = deciding.value, deciding.message
            if (alarm.severity, alarm.rule_id) != (deciding.severity, deciding.rule_id):
                alarm.severity, alarm.rule_id = deciding.severity, deciding.rule_id
                alarm.threshold = deciding.threshold
                alarm.updated_at = now
                updated.append(alarm)
        # An alarm no enabled rule watches any more ends with its rules.
        for key, alarm in active.items():
            if key not in watched:
                ended.add(key)
                self._end(alarm, now)
                updated.append(alarm)
        self.storage.rearm(ended & held)
        self.storage.commit()
        return created, updated

    def _raise(self, originator, found, now):
        return self.storage.raise_alarm(
            {
                "type": found.type,
                "severity": found.severity,
                "originator_type": originator.type,
                "originator_id": originator.id,
                "originator_name": originator.name,
                "user_id": originator.user_id,
                "site_id": originator.site_id,
                "device_id": originator.device_id,
                "rule_id": found.rule_id,
                "value": found.value,
                "threshold": found.threshold,
                "unit": found.unit,
                "message": found.message,
                "started_at": now,
                "updated_at": now,
            }
        )

    @staticmethod
    def _end(alarm, now):
        """Its condition ended (or no rule watches it): cleared by no one; its
        value and message stay what they were last."""
        alarm.active = False
        alarm.ended_at = now
        alarm.updated_at = now

    # -- telling people ----------------------------------------------------------------

    def _announce(self, created, updated):
        """Push each alarm to the people it concerns, as their preferences say,
        and e-mail new ones (or hold them through quiet hours)."""
        if not created and not updated:
            return
        sites = self.storage.sites(
            {alarm.site_id for alarm in [*created, *updated] if alarm.site_id}
        )
        people = {
            alarm.id: logic.recipients(
                alarm.user_id,
                sites[alarm.site_id].members if alarm.site_id in sites else [],
            )
            for alarm in [*created, *updated]
        }
        everyone = {person for group in people.values() for person in group}
        preferences = {
            user_id: _preferences(row)
            for user_id, row in self.storage.preferences_of(everyone).items()
        }
        users = self._users(everyone)
        for kind, alarms in (
            (pushes.ALARM_CREATED, created),
            (pushes.ALARM_UPDATED, updated),
        ):
            for alarm in alarms:
                for user_id in people[alarm.id]:
                    chosen = preferences.get(user_id, DEFAULT_PREFERENCES)
                    if kind is pushes.ALARM_CREATED and (
                        alarm.severity not in chosen["app_severities"]
                    ):
                        continue
                    self._push_to(kind, alarm, user_id, users.get(user_id), sites)
        for alarm in created:
            for user_id in people[alarm.id]:
                chosen = preferences.get(user_id, DEFAULT_PREFERENCES)
                if alarm.severity in chosen["email_severities"]:
                    self._email(alarm, users.get(user_id), chosen)
        self.storage.commit()

    def _push_to(self, kind, alarm, user_id: str, user: dict | None, sites) -> None:
        """Push the alarm to ``user_id`` with what they may do with it, their role
        on its site read from ``sites`` (already loaded for the announcement)."""
        caller = {"user_id": user_id, "role": (user or {}).get("role", "USER")}
        role = _role_on(sites.get(alarm.site_id), user_id)
        self.push(kind, self._view(alarm, caller, {alarm.site_id: role}), user_id)

    def _email(self, alarm, user: dict | None, chosen: dict) -> None:
        """E-mail a new alarm to ``user``, or hold it while their quiet hours last
        (the caller commits)."""
        if user is None:
            return
        local = datetime.now(_zone(user.get("time_zone")))
        if logic.in_quiet_hours(local, chosen["quiet_start"], chosen["quiet_end"]):
            self.storage.hold_email(user["id"], alarm.id)
            return
        subject = f"[EMS] {alarm.severity.capitalize()} alarm: {alarm.originator_name}"
        self.dispatch(
            MAIL_SEND,
            outgoing(user["email"], subject, self._alarm_text([alarm], local.tzinfo)),
        )

    def _alarm_text(self, alarms, zone) -> str:
        link = self._link("/alarms")
        lines = [
            f"{logic.summary_line(alarm)} (since "
            f"{alarm.started_at.astimezone(zone):%Y-%m-%d %H:%M %Z})"
            for alarm in alarms
        ]
        return "\n".join([*lines, "", f"See and acknowledge them: {link}"])

    def _link(self, path: str) -> str:
        base = (self.config.get("PUBLIC_URL") or "http://app.localhost:8080").rstrip(
            "/"
        )
        return f"{base}{path}"

    @configured_timer("NOTIFY_SECONDS", NOTIFY_SECONDS)
    def notify(self):
        """Send the e-mail held through quiet hours that have ended, and the
        digests that are due."""
        now = datetime.now(UTC)
        waiting = self.storage.users_with_held_email()
        digests = self.storage.with_digest()
        self.storage.commit()
        users = self._users([*waiting, *(row.user_id for row in digests)])
        if not users:
            return
        for user_id in waiting:
            user = users.get(user_id)
            if user is None:
                continue
            chosen = _preferences(self.storage.preferences(user_id))
            local = now.astimezone(_zone(user.get("time_zone")))
            if logic.in_quiet_hours(local, chosen["quiet_start"], chosen["quiet_end"]):
                continue
            alarms = self.storage.take_held(user_id)
            self.storage.commit()
            if alarms:
                self.dispatch(
                    MAIL_SEND,
                    outgoing(
                        user["email"],
                        f"[EMS] {len(alarms)} alarm(s) during your quiet hours",
                        self._alarm_text(alarms, local.tzinfo),
                    ),
                )
        for row in digests:
            user = users.get(row.user_id)
            if user is None:
                continue
            local = now.astimezone(_zone(user.get("time_zone")))
            if not logic.digest_due(local, row.digest_hour, row.digest_sent_on):
                continue
            if not self.storage.claim_digest(row.user_id, local.date()):
                self.storage.commit()
                continue
            alarms = self.storage.alarms_since(row.user_id, now - timedelta(days=1))
            self.storage.commit()
            self.dispatch(
                MAIL_SEND,
                outgoing(user["email"], *self._digest(alarms, local)),
            )

    def _digest(self, alarms, local) -> tuple[str, str]:
        active = [alarm for alarm in alarms if alarm.active]
        ended = [alarm for alarm in alarms if not alarm.active]
        subject = f"[EMS] Your alarms, {local:%Y-%m-%d}: {len(active)} active"
        parts = [f"Alarms of the last 24 hours, on your clock ({local.tzinfo}).", ""]
        parts.append(f"Active now ({len(active)}):")
        parts += [f"  {logic.summary_line(alarm)}" for alarm in active] or ["  none"]
        parts.append("")
        parts.append(f"Ended ({len(ended)}):")
        parts += [
            f"  {logic.summary_line(alarm)} "
            f"({alarm.started_at.astimezone(local.tzinfo):%H:%M}–"
            f"{alarm.ended_at.astimezone(local.tzinfo):%H:%M})"
            for alarm in ended
        ] or ["  none"]
        parts += ["", f"All alarms: {self._link('/alarms')}"]
        return subject, "\n".join(parts)

    # -- the copy ----------------------------------------------------------------------

    @consume_keyed(ALARMS_SYNC)
    def handle_sync(self, body, routing_key):
        """Keep devices (and their own limit rule), rooms and sites as their events
        tell; forget a deleted user's preferences and rules. Redelivered or late
        events change nothing: what is kept carries when it changed."""
        kind, _, change = routing_key.partition(".")
        if kind == "device":
            device = body["device"]
            if change == "deleted":
                self.storage.forget_device(device["id"], _when(device["updated_at"]))
            else:
                self._keep_device(device)
        elif kind == "site":
            site = body["site"]
            if change == "deleted":
                self.storage.forget_site(site["id"], _when(site["updated_at"]))
            else:
                self.storage.put_site(site, _when(site["updated_at"]))
        elif kind == "room":
            room = body["room"]
            if change == "deleted":
                self.storage.forget_room(room["id"])
            else:
                self.storage.put_room(room)
        elif routing_key == "user.deleted":
            self.storage.forget_user(body["user"]["id"])
        self.storage.commit()

    def _keep_device(self, device: dict) -> None:
        if self.storage.put_device(device, _when(device["updated_at"])):
            self.storage.keep_device_limit(self.storage.device(device["id"]))

    @timer(interval=6 * 3600, eager=True)
    def take_inventory(self):
        """Copy every site with its rooms and devices from the devices service:
        at start, for what was there before this service heard of its events,
        and every few hours after, for anything missed."""
        after = None
        while True:
            try:
                page = self.devices_rpc.site_inventory(after, INVENTORY_PAGE)
            except OPTIONAL_CALL_FAILURES as exc:
                log.warning("no inventory from devices: %s", exc)
                return
            for entry in page:
                self.storage.put_site(entry["site"], _when(entry["site"]["updated_at"]))
                for room in entry["rooms"]:
                    self.storage.put_room(room)
                for device in entry["devices"]:
                    self._keep_device(device)
            self.storage.commit()
            if len(page) < INVENTORY_PAGE:
                return
            after = page[-1]["site"]["id"]


def _role_on(site, user_id: str) -> str | None:
    """``user_id``'s role on ``site`` (a kept site, or None), if a member."""
    if site is None:
        return None
    return next((m["role"] for m in site.members if m["user_id"] == user_id), None)


def _preferences(row) -> dict:
    if row is None:
        return DEFAULT_PREFERENCES
    return {key: getattr(row, key) for key in DEFAULT_PREFERENCES}


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
