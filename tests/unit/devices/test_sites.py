"""An account's default site: one id, whoever makes it."""

import importlib.util
import uuid

import config
from services.devices import sites

MIGRATION = (
    config.ROOT_DIR
    / "migrations"
    / "devicedb"
    / "versions"
    / "20261202_4a7c3e91d2b5_sites.py"
)


def test_a_default_site_s_id_is_derived_from_its_owner_s():
    user_id = "6f1c9d2e-0000-4000-8000-0000000000a1"
    assert sites.default_site_id(user_id) == sites.default_site_id(user_id)
    assert sites.default_site_id(user_id) != sites.default_site_id(str(uuid.uuid4()))
    assert uuid.UUID(sites.default_site_id(user_id)).version == 5


def test_the_migration_derived_the_same_ids():
    spec = importlib.util.spec_from_file_location("sites_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.SITE_NAMESPACE == sites.SITE_NAMESPACE
    assert migration.TARIFF == sites.DEFAULT_TARIFF
    assert migration.CO2_KG_PER_KWH == sites.DEFAULT_CO2_KG_PER_KWH


def test_a_new_site_takes_the_configured_defaults():
    assert sites.defaults({}) == {
        "timezone": "UTC",
        "tariff": sites.DEFAULT_TARIFF,
        "co2_kg_per_kwh": 0.4,
    }
    tariff = {"currency": "GBP", "import_per_kwh": 0.25, "export_per_kwh": 0.15}
    configured = {
        "default_timezone": "Europe/London",
        "default_tariff": tariff,
        "default_co2_kg_per_kwh": 0.2,
    }
    assert sites.defaults(configured) == {
        "timezone": "Europe/London",
        "tariff": tariff,
        "co2_kg_per_kwh": 0.2,
    }


def test_the_installation_s_defaults_are_the_contract_s():
    settings = config.settings("devices", {})["DEVICES"]
    assert sites.defaults(settings) == sites.defaults({})
    assert config.settings("devices", {"EMS_TIMEZONE": "Europe/Berlin"})["DEVICES"][
        "default_timezone"
    ] == ("Europe/Berlin")
