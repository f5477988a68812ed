"""pika's connection parameters from the platform's AMQP URI."""

import pytest

from services.common.amqp import BLOCKED_CONNECTION_TIMEOUT, pika_parameters


@pytest.mark.parametrize("scheme", ["amqp", "pyamqp"])
def test_the_vhost_is_taken_from_the_uri_in_either_spelling(scheme):
    parameters = pika_parameters(f"{scheme}://u:p@rabbit:5673/ems_t1_%2Fx", "x")
    assert (parameters.host, parameters.port) == ("rabbit", 5673)
    assert parameters.virtual_host == "ems_t1_/x"
    assert parameters.credentials.username == "u"


def test_the_default_vhost_is_the_root():
    assert pika_parameters("amqp://guest:guest@h:5672/", "x").virtual_host == "/"


def test_connections_are_named_and_give_up_when_blocked():
    parameters = pika_parameters("amqp://guest:guest@h:5672/", "balancer")
    assert parameters.client_properties == {"connection_name": "balancer"}
    assert parameters.blocked_connection_timeout == BLOCKED_CONNECTION_TIMEOUT
