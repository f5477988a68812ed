"""users: the accounts, their roles, and the ``user.*`` events on ``ems.sync``.

Passwords never leave for ``ems.sync``: they go to auth over RPC, synchronously, so a
new account can log in as soon as it is created and a deleted or demoted user's token
stops working before the request that changed them returns.
"""

from nameko.rpc import rpc

from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher
from services.common.rpc import RpcProxy
from services.common.schemas import load
from services.common.topology import SYNC
from services.users import policies
from services.users.exceptions import UserNotFound
from services.users.permissions import account_permissions
from services.users.schemas import (
    RegisterSchema,
    UserCreateSchema,
    UserDirectoryQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from services.users.storage import UserStore

user_schema = UserSchema()


class UsersService(HealthMixin):
    name = "users"

    storage = Database(UserStore)
    auth_rpc = RpcProxy("auth")
    dispatch = Dispatcher(SYNC)

    @rpc(expected_exceptions=EXPECTED)
    def register(self, body, client):
        """A new account of role USER, whatever the body says. Registrations are
        counted per client address (auth), so that one client cannot mint accounts."""
        data = load(RegisterSchema(), body)
        self.auth_rpc.admit_registration(client)
        return self._create(data["email"], data["name"], "USER", data["password"])

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
        return user_schema.dump(user) | {"permissions": account_permissions(caller)}

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
    def update_user(self, caller, user_id, body):
        policies.MANAGE_USERS.require(caller)
        return self._update(user_id, load(UserUpdateSchema(), body))

    @rpc(expected_exceptions=EXPECTED)
    def delete_user(self, caller, user_id):
        policies.MANAGE_USERS.require(caller)
        user = user_schema.dump(self.storage.delete_user(user_id))
        self.auth_rpc.remove_credentials(user_id)
        # Published before the commit: a crash between the two repeats the event on
        # retry rather than losing it, and every consumer of it is idempotent.
        self.dispatch("user.deleted", {"user": user})
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

    def _create(self, email, name, role, password):
        user = self.storage.add_user(email, name, role)
        self.auth_rpc.set_credentials(user.id, email, role, password)
        payload = user_schema.dump(user)
        self.dispatch("user.created", {"user": payload})
        try:
            self.storage.commit()
        except Exception:
            self.auth_rpc.remove_credentials(user.id)
            raise
        return payload

    def _update(self, user_id, changes):
        user = self.storage.update_user(user_id, changes)
        self.auth_rpc.set_credentials(
            user.id, user.email, user.role, changes.get("password")
        )
        payload = user_schema.dump(user)
        self.dispatch("user.updated", {"user": payload})
        self.storage.commit()
        return payload
