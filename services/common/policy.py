"""Who may do what: the named policies that each service declares in its own
``policies.py``, and the caller they are asked about.

Every RPC that acts for someone takes a ``caller``: ``{"user_id", "role"}``, from
the verified token. A service asks its policies, never the role directly, so that
"who may do X" has one answer per service, tested as a table of roles × actions
(``tests/unit/<service>/test_policies.py``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from services.common.errors import Forbidden

USER, VIEWER, OPERATOR, ADMIN = "USER", "VIEWER", "OPERATOR", "ADMIN"
#: Every role, weakest first. VIEWER reads what staff read and changes nothing.
ROLES = (USER, VIEWER, OPERATOR, ADMIN)
#: The roles that run the platform rather than a household.
STAFF = (OPERATOR, ADMIN)
#: The roles that read everyone's objects: staff, and VIEWER.
READERS = (VIEWER, *STAFF)
#: The roles that may change anything at all: every one but VIEWER.
WRITERS = tuple(role for role in ROLES if role != VIEWER)

#: A member's role on a site (kept by the devices service): ``owner`` may do
#: everything (its members, deleting it); ``operator`` changes the site, its rooms
#: and its devices and commands the devices; ``viewer`` reads. A site always has
#: an owner.
SITE_OWNER, SITE_OPERATOR, SITE_VIEWER = "owner", "operator", "viewer"
SITE_ROLES = (SITE_OWNER, SITE_OPERATOR, SITE_VIEWER)
#: The site roles that change a site and its devices.
SITE_WRITERS = (SITE_OWNER, SITE_OPERATOR)


@dataclass(frozen=True)
class Policy:
    """An action, and who may take it: callers whose role is in ``roles``, when
    ``owner`` is true the owner of the object it is taken on, and members of the
    object's site whose role there is in ``site_roles``. ``action`` is a short
    name (``update``), the key of the action in ``permissions``."""

    action: str
    roles: tuple[str, ...] = ()
    owner: bool = False
    #: Site roles (the devices service's ``owner``, ``operator``, ``viewer``) that
    #: may take the action on an object of their site.
    site_roles: tuple[str, ...] = ()

    def allows(
        self, caller: dict, owner_id: str | None = None, site_role: str | None = None
    ) -> bool:
        """``site_role``: the caller's role on the site of the object, if any."""
        if caller["role"] in self.roles:
            return True
        if site_role is not None and site_role in self.site_roles:
            return True
        return self.owner and owner_id is not None and caller["user_id"] == owner_id

    def require(
        self,
        caller: dict,
        owner_id: str | None = None,
        refusal=None,
        site_role: str | None = None,
    ):
        """Raise ``refusal`` (an exception, by default ``Forbidden``) unless allowed.

        An object the caller may not see is refused with its own not-found error,
        exactly like a missing one, so that ids cannot be probed.
        """
        if not self.allows(caller, owner_id, site_role):
            action = self.action.replace("_", " ")
            raise refusal or Forbidden(f"your role may not {action} this")


def listing_owner(caller: dict, read_all: Policy, requested: str | None) -> str | None:
    """Whose objects a listing shows: ``None`` for everyone's.

    A caller whom ``read_all`` allows sees everyone's, or one owner's when they
    ask for it; anyone else sees their own, whatever they ask.
    """
    if read_all.allows(caller):
        return requested
    return caller["user_id"]


def permissions(
    caller: dict,
    owner_id: str | None,
    *policies: Policy,
    site_role: str | None = None,
) -> dict:
    """``{action: bool}`` of what ``caller`` may do with an object, for the web app:
    it shows only the buttons that work."""
    return {
        policy.action: policy.allows(caller, owner_id, site_role) for policy in policies
    }


def granted(caller: dict, policies: Iterable[Policy]) -> list[str]:
    """The actions of ``policies`` that ``caller`` may take whoever owns the object,
    by name: those their role is given. An action an owner may take on their own
    objects is not among them; the object's ``permissions`` say so."""
    return sorted(policy.action for policy in policies if policy.allows(caller))


def declared(module: ModuleType) -> set[Policy]:
    """Every policy a ``policies`` module declares."""
    return {value for value in vars(module).values() if isinstance(value, Policy)}
