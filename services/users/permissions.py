"""What an account may do on the platform, for ``GET /api/auth/me``: derived from
every service's policies, so that the web app shows what the services allow.

A service's ``policies.py`` is plain data (``Policy`` values, importing nothing
but ``services.common.policy``): reading it here asks nothing of the service and
starts none of it, and "who may do X" stays answered in one place, the one the
service itself enforces.
"""

from services.alarms import policies as alarms
from services.audit import policies as audit
from services.batteries import policies as batteries
from services.common.policy import declared, granted
from services.devices import policies as devices
from services.dr import policies as dr
from services.monitoring import policies as monitoring
from services.support import policies as support
from services.trading import policies as trading
from services.users import policies as users

#: Each service's policies, by the service's name: an action is named
#: ``<service>.<action>`` (``devices.create``).
SERVICES = {
    "alarms": alarms,
    "audit": audit,
    "batteries": batteries,
    "devices": devices,
    "dr": dr,
    "monitoring": monitoring,
    "support": support,
    "trading": trading,
    "users": users,
}


def account_permissions(caller: dict) -> list[str]:
    """Every ``<service>.<action>`` that ``caller`` may take whoever owns the
    object (``services.common.policy.granted``), sorted: the actions not about
    an object (``devices.create``, ``users.manage_users``), and those their role
    gives them on anyone's object (``devices.read``: staff read every device).
    What an owner may do with their own objects comes with each object."""
    return sorted(
        f"{service}.{action}"
        for service, module in SERVICES.items()
        for action in granted(caller, declared(module))
    )
