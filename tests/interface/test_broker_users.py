"""Each process's own broker user (``ems/broker.py``), on the real broker: the
administrator has no access to the platform's virtual host, and a process may use
only what its work needs."""

import secrets
import uuid

import amqp
import amqp.exceptions
import pytest
import requests
from kombu import Connection, Exchange, Queue

import config
from ems import broker
from services.common.amqp import with_login
from services.common.topology import (
    ACKS,
    COMMANDS,
    DATA,
    declare_all,
    device_command_queue,
    device_key,
    rpc_reply_prefix,
)
from services.devices.broker import BrokerAccountsClient

common = config.settings("common")
DEVICE = "7a2e0c1d-0000-4000-8000-000000000001"
OTHER_DEVICE = "7a2e0c1d-0000-4000-8000-000000000002"


@pytest.fixture
def installation():
    """A fresh virtual host with every process's user, as ``ems prepare`` makes
    them; ``{name: AMQP URI}``."""
    vhost = f"ems_users_{secrets.token_hex(4)}"
    prefix = f"{vhost}-"
    management = broker.Management(common["RABBIT_MANAGEMENT_URI"])
    uris = broker.ensure_users(management, vhost, common["AMQP_URI"], prefix=prefix)
    yield {name: uris[broker.variable(name)] for name in broker.PERMISSIONS}
    requests.delete(
        f"{management.api}/vhosts/{vhost}", auth=management.auth, timeout=10
    )
    management.delete_users(prefix)


def prepared(installation) -> Exchange:
    """The topology as ``ems prepare`` and a first service declare it."""
    with Connection(installation["prepare"]) as connection:
        declare_all(connection.default_channel)
    rpc = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(installation["users"]) as connection:
        rpc(connection.default_channel).declare()
    return rpc


def refused(uri: str, action) -> bool:
    """Whether the broker refuses ``action(channel)`` for ``uri``'s user."""
    try:
        with Connection(uri, connect_timeout=5) as connection:
            connection.connect()
            action(connection.channel())
            connection.channel().close()  # a refusal closes the channel first
    except (amqp.exceptions.AccessRefused, amqp.exceptions.NotAllowed):
        return True
    return False


def publish(exchange: Exchange, routing_key: str):
    def action(channel):
        channel.basic_publish(
            amqp.Message(b"{}"), exchange=exchange.name, routing_key=routing_key
        )
        channel.basic_qos(0, 1, False)  # a round trip, so a refusal arrives

    return action


def test_the_administrator_has_no_access_to_the_platform_s_virtual_host(
    installation,
):
    vhost = installation["auth"].rsplit("/", 1)[1]
    admin = common["AMQP_URI"].rstrip("/") + "/" + vhost
    assert refused(admin, lambda channel: None)


def test_each_process_does_its_work(installation):
    rpc = prepared(installation)
    for name in ("gateway", "users"):
        assert not refused(installation[name], publish(rpc, "users.create_user"))
    assert not refused(installation["simulator"], publish(DATA, "device.x.reading"))


def test_a_process_may_not_do_another_s_work(installation):
    rpc = prepared(installation)
    users_queue = Queue("rpc-users", exchange=rpc, routing_key="users.*")
    # The simulator (and so anything with its login) cannot call RPC or listen in.
    assert refused(installation["simulator"], publish(rpc, "users.create_user"))
    assert refused(installation["simulator"], lambda ch: users_queue(ch).declare())
    # Neither the WebSocket gateway nor the balancer can fake a service's events,
    # nor a service a reading.
    sync = Exchange("ems.sync", type="topic", durable=True)
    assert refused(installation["ws_gateway"], publish(sync, "user.deleted"))
    assert refused(installation["balancer"], publish(sync, "user.deleted"))
    assert refused(installation["users"], publish(DATA, "device.x.reading"))
    # The gateway serves no one's RPC queue but its own replies.
    assert refused(installation["gateway"], lambda ch: users_queue(ch).declare())


def test_devices_sends_commands_and_nothing_else_on_ems_data(installation):
    prepared(installation)
    devices = installation["devices"]
    assert not refused(devices, publish(DATA, device_key(DEVICE, COMMANDS)))
    for key in (f"device.{DEVICE}.reading", device_key(DEVICE, "reading")):
        assert refused(devices, publish(DATA, key))


def test_the_websocket_gateway_makes_one_call_and_hears_its_own_answers(
    installation,
):
    rpc = prepared(installation)
    gateway = installation["ws_gateway"]
    assert not refused(gateway, publish(rpc, "devices.send_command"))
    for call in ("devices.issue_command", "users.create_user", "auth.check"):
        assert refused(gateway, publish(rpc, call))

    def replies(binding_key):
        name = f"{rpc_reply_prefix('ws_gateway')}{uuid.uuid4()}"
        queue = Queue(name, exchange=rpc, routing_key=binding_key, auto_delete=True)
        return lambda channel: queue(channel).declare()

    assert not refused(gateway, replies(str(uuid.uuid4())))
    # Not every call and answer of the platform.
    assert refused(gateway, replies("#"))
    assert refused(gateway, replies("users.*"))


def test_an_amqp_device_hears_its_own_commands_only(installation):
    prepared(installation)
    vhost = installation["auth"].rsplit("/", 1)[1]
    accounts = BrokerAccountsClient(common["RABBIT_MANAGEMENT_URI"], vhost)

    def login(device_id):
        credentials = accounts.issue(device_id)
        return with_login(
            common["AMQP_URI"], credentials.username, credentials.password, vhost
        )

    def declare(queue):
        """The queue declared and bound; a device may not declare ``ems.data``."""

        def action(channel):
            bound = queue(channel)
            bound.queue_declare()
            bound.queue_bind()

        return action

    mine, theirs = login(DEVICE), login(OTHER_DEVICE)
    own = device_command_queue(DEVICE)
    other = device_command_queue(OTHER_DEVICE)
    assert not refused(theirs, declare(other))
    # Its own queue, bound with its own key: declared, read, answered.
    assert not refused(mine, declare(own))
    assert not refused(mine, lambda channel: channel.basic_get(own.name))
    assert not refused(mine, publish(DATA, device_key(DEVICE, ACKS)))
    # Not another's queue, nor another's commands, nor everything.
    assert refused(mine, declare(other))
    assert refused(mine, lambda channel: DATA(channel).declare())
    assert refused(mine, lambda channel: channel.basic_get(other.name))
    for key in (device_key(OTHER_DEVICE, COMMANDS), "ems.devices.#", "#"):
        assert refused(
            mine, lambda channel, key=key: channel.queue_bind(own.name, DATA.name, key)
        )
    assert refused(mine, publish(DATA, device_key(OTHER_DEVICE, ACKS)))
    accounts.revoke(DEVICE)
    accounts.revoke(OTHER_DEVICE)
