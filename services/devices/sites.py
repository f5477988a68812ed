"""Sites: where a household's devices are (a home, a holiday flat, a shop), with the
local time, tariff and grid intensity its energy is priced and weighed by, its
rooms, and who may see or change it.

Every account has a default site whose id is derived from the account's id
(``default_site_id``), so that the migration, the ``user.created`` handler and a
device created without a site all name the same one, and a redelivered event
creates it once.
"""

import uuid

from services.devices.policies import SITE_OWNER

#: The namespace of default sites' ids. Fixed for good: the migration
#: ``4a7c3e91d2b5`` gave every device owner of the time the site it derives.
SITE_NAMESPACE = uuid.UUID("91d72b0e-ced1-4075-bb6e-77db79bb85d9")

#: The name of an account's default site.
DEFAULT_NAME = "Home"
#: What a site is given when it is created without them, unless
#: ``DEVICES.default_timezone``, ``default_tariff`` and ``default_co2_kg_per_kwh``
#: say otherwise.
DEFAULT_TIMEZONE = "UTC"
DEFAULT_TARIFF = {
    "currency": "EUR",
    "import_per_kwh": 0.30,
    "export_per_kwh": 0.08,
    "periods": [],
}
DEFAULT_CO2_KG_PER_KWH = 0.4


def default_site_id(user_id: str) -> str:
    """The id of ``user_id``'s default site."""
    return str(uuid.uuid5(SITE_NAMESPACE, user_id))


def defaults(settings: dict) -> dict:
    """A new site's timezone, tariff and grid intensity, from ``DEVICES``."""
    return {
        "timezone": settings.get("default_timezone") or DEFAULT_TIMEZONE,
        "tariff": dict(settings.get("default_tariff") or DEFAULT_TARIFF),
        "co2_kg_per_kwh": settings.get(
            "default_co2_kg_per_kwh", DEFAULT_CO2_KG_PER_KWH
        ),
    }


def owners(members) -> set[str]:
    """The user ids of ``members`` (rows with ``user_id`` and ``role``) who own."""
    return {member.user_id for member in members if member.role == SITE_OWNER}
