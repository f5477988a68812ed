"""``ems run``: each Nameko service process, its class and its settings."""

import pytest
from nameko.cli.run import import_service

import config
from ems.cli import parser
from ems.run import SERVICES


@pytest.mark.parametrize("process", sorted(SERVICES))
def test_each_service_is_a_class_with_settings_of_its_own(process):
    [service] = import_service(SERVICES[process])
    settings = config.settings(process, {})
    assert isinstance(service, type)
    assert settings["AMQP_URI"] and settings["LOGGING"]["version"] == 1
    # The broker user of a service is named after it (ems/broker.py).
    assert f"EMS_AMQP_URI_{process.upper()}" in {
        variable.name for variable in config.variables_of(process)
    }


def test_only_the_services_are_accepted():
    assert parser().parse_args(["run", "devices"]).service == "devices"
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "balancer"])
