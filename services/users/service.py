"""users: the accounts, their roles, and the ``user.*`` events on ``ems.sync``.

Passwords never leave for ``ems.sync``: they go to auth over RPC, synchronously, so a
new account can log in as soon as it is created and a deleted or demoted user's token
stops working before the request that changed them returns.
"""

from nameko.rpc import rpc

from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED, ValidationFailed
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher
from services.common.rpc import RpcProxy
from services.common.schemas import load
from services.common.topology import SYNC
from services.users import policies
from services.users.exceptions import EmailTaken, UserNotFound
from services.users.permissions import account_permissions
from services.users.schemas import (
    AccountDeleteSchema,
    CurrentUserSchema,
    EmailConfirmSchema,
    ProfileUpdateSchema,
    RegisterSchema,
    UserCreateSchema,
    UserDirectoryQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from services.users.storage import UserStore

user_schema = UserSchema()
current_user_schema = CurrentUserSchema()
#: What a user changes of their own account without their password.
PREFERENCES = ("name", "time_zone", "units", "theme")


class UsersService(HealthMixin):
    name = "users"

    storage = Database(UserStore)
    auth_rpc = RpcProxy("auth")
    dispatch = Dispatcher(SYNC)
    audit = Audit()

    @rpc(expected_exceptions=EXPECTED)
    def register(self, body, client):
        """A new account of role USER, whatever the body says. Registrations are
        counted per client address (auth), so that one client cannot mint accounts.

        ``email_verified`` is false when auth requires sign-ups to be confirmed
        (``EMS_SIGNUP_VERIFICATION``): it has e-mailed the link that does, and
        the account may log in once it is followed."""
        data = load(RegisterSchema(), body)
        self.auth_rpc.admit_registration(client)
        return self._create(
            data["email"], data["name"], "USER", data["password"], signup=True
        )

    @rpc(expected_exceptions=EXPECTED)
    def create_user(self, caller, body):
        policies.MANAGE_USERS.require(caller)
        data = load(UserCreateSchema(), body)
        return self._create(data["email"], data["name"], data["role"], data["password"])

    @rpc(expected_exceptions=EXPECTED)
    def ensure_account(self, email, password, name, role):
        """Create the account ``email``, or give it this role and password again
        (how an installation's ADMIN and demo user are kept as configured)."""
        data = load(
            UserCreateSchema(),
            {"email": email, "password": password, "name": name, "role": role},
        )
        user = self.storage.find_user(data["email"])
        if user is None:
            return self._create(data["email"], data["name"], role, data["password"])
        return self._update(user.id, {"role": role, "password": data["password"]})

    @rpc(expected_exceptions=EXPECTED)
    def current_user(self, caller):
        """The caller's own account, with what it may do on the platform
        (``permissions``, from every service's policies)."""
        user = self.storage.get_user(caller["user_id"])
        return current_user_schema.dump(user) | {
            "permissions": account_permissions(caller)
        }

    @rpc(expected_exceptions=EXPECTED)
    def update_me(self, caller, body, token, client=None):
        """The caller changes their own account: name and preferences at once; a
        new password, given the current one, ending their other sessions (auth
        records it, from ``client``); a new e-mail address, given the current
        password, once they follow the link e-mailed to it (``pending_email``
        until then)."""
        data = load(ProfileUpdateSchema(), body)
        user = self.storage.get_user(caller["user_id"])
        new_email = data.get("email")
        if new_email == user.email:
            new_email = None
        if ("password" in data or new_email) and "current_password" not in data:
            raise ValidationFailed(
                "the current password is needed to change the password or e-mail "
                "address",
                {"current_password": ["required"]},
            )
        if "password" in data:
            self.auth_rpc.change_password(
                token, data["current_password"], data["password"], client=client
            )
        elif new_email:
            self.auth_rpc.check_password(
                user.id, data["current_password"], "current_password"
            )
        if new_email:
            if self.storage.find_user(new_email) is not None:
                raise EmailTaken()
            self.auth_rpc.request_email_change(user.id, new_email)
        changes = {key: data[key] for key in PREFERENCES if key in data}
        if changes:
            user = self.storage.update_user(user.id, changes)
            self.dispatch("user.updated", {"user": user_schema.dump(user)})
            self.storage.commit()
        answer = current_user_schema.dump(user) | {
            "permissions": account_permissions(caller)
        }
        if new_email:
            answer["pending_email"] = new_email
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def confirm_email_change(self, body):
        """Follow the link e-mailed to a new address: the account moves to it. The
        link e-mailed at sign-up confirms the account's own address (auth marks
        it verified) and changes nothing here."""
        data = load(EmailConfirmSchema(), body)
        confirmed = self.auth_rpc.use_email_link(data["token"])
        if confirmed["email"] is None:
            return user_schema.dump(self.storage.get_user(confirmed["user_id"]))
        return self._update(confirmed["user_id"], {"email": confirmed["email"]})

    @rpc(expected_exceptions=EXPECTED)
    def delete_me(self, caller, body, client=None):
        """The caller deletes their own account, given their password: exactly
        what an ADMIN's delete does, recorded as ``auth.account_deleted``."""
        data = load(AccountDeleteSchema(), body)
        self.auth_rpc.check_password(caller["user_id"], data["password"])
        self._delete(caller["user_id"], caller, "auth.account_deleted", client)

    @rpc(expected_exceptions=EXPECTED)
    def get_user(self, caller, user_id):
        policies.READ_USERS.require(caller)
        return self.describe_user(user_id)

    @rpc(expected_exceptions=EXPECTED)
    def describe_user(self, user_id):
        """A user, for other services (which serve no caller of their own)."""
        return user_schema.dump(self.storage.get_user(user_id))

    @rpc(expected_exceptions=EXPECTED)
    def describe_users(self, user_ids):
        """Those of ``user_ids`` that are users, in one call, for other services:
        dr checks whom it is asked to invite and names whom it invited. An id
        that is no user is left out."""
        return user_schema.dump(self.storage.get_users(user_ids), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def describe_user_by_email(self, email):
        """The user of an e-mail address (any case), for other services: devices
        adds a site's members by the address their owner knows them by."""
        user = self.storage.find_user(str(email).strip().lower())
        if user is None:
            raise UserNotFound()
        return user_schema.dump(user)

    @rpc(expected_exceptions=EXPECTED)
    def list_users(self, caller):
        policies.READ_USERS.require(caller)
        return user_schema.dump(self.storage.list_users(), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def update_user(self, caller, user_id, body, client=None):
        """ADMIN changes a user; a changed role or password is recorded in the
        audit log, from ``client``."""
        policies.MANAGE_USERS.require(caller)
        return self._update(user_id, load(UserUpdateSchema(), body), caller, client)

    @rpc(expected_exceptions=EXPECTED)
    def delete_user(self, caller, user_id, client=None):
        policies.MANAGE_USERS.require(caller)
        self._delete(user_id, caller, "users.deleted", client)

    def _delete(self, user_id, caller, action, client):
        """Delete the user and, through ``user.deleted``, everything they own;
        recorded as ``action`` by ``caller``."""
        user = user_schema.dump(self.storage.delete_user(user_id))
        self.auth_rpc.remove_credentials(user_id)
        # Published before the commit: a crash between the two repeats the event on
        # retry rather than losing it, and every consumer of it is idempotent.
        self.dispatch("user.deleted", {"user": user})
        self.audit(
            caller,
            action,
            "user",
            user_id,
            {"email": user["email"], "role": user["role"]},
            client,
        )
        self.storage.commit()

    @rpc(expected_exceptions=EXPECTED)
    def find_users(self, caller, query):
        """People by name or e-mail address, for staff who look for someone (to
        invite them to an event, to answer them)."""
        policies.FIND_USERS.require(caller)
        query = load(UserDirectoryQuerySchema(), query)
        return user_schema.dump(
            self.storage.find_users(query["q"], query["limit"]), many=True
        )

    def _create(self, email, name, role, password, signup=False):
        """The new account; with ``signup``, also whether it may log in before its
        address is confirmed (``email_verified``, auth's say)."""
        user = self.storage.add_user(email, name, role)
        credentials = self.auth_rpc.set_credentials(
            user.id, email, role, password, signup=signup
        )
        payload = user_schema.dump(user)
        self.dispatch("user.created", {"user": payload})
        try:
            self.storage.commit()
        except Exception:
            self.auth_rpc.remove_credentials(user.id)
            raise
        if signup:
            return payload | {"email_verified": credentials["email_verified"]}
        return payload

    def _update(self, user_id, changes, caller=None, client=None):
        """Change the user; a new role or password is recorded in the audit log,
        as ``caller``'s (None: the platform's, keeping an account as configured
        or following an e-mail link)."""
        before = self.storage.get_user(user_id).role
        user = self.storage.update_user(user_id, changes)
        self.auth_rpc.set_credentials(
            user.id, user.email, user.role, changes.get("password")
        )
        payload = user_schema.dump(user)
        self.dispatch("user.updated", {"user": payload})
        if user.role != before:
            self.audit(
                caller,
                "users.role_changed",
                "user",
                user.id,
                {"from": before, "to": user.role},
                client,
            )
        if "password" in changes and caller is not None:
            self.audit(caller, "users.password_set", "user", user.id, None, client)
        self.storage.commit()
        return payload
