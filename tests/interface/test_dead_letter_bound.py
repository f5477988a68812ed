"""``ems.dead`` is bounded by a broker policy: the oldest dead letters give way."""

import requests
from kombu import Connection

import config
from ems.broker import POLICY, apply_dead_letter_policy
from services.common.amqp import vhost_of
from services.common.topology import DEAD, DLX


def test_the_oldest_dead_letters_are_dropped_beyond_the_bound(rabbit_config):
    common = config.settings("common")
    uri = rabbit_config["AMQP_URI"]
    apply_dead_letter_policy(common["RABBIT_MANAGEMENT_URI"], uri, 3, 1 << 20)
    with Connection(uri) as connection:
        producer = connection.Producer()
        for number in range(5):
            producer.publish(
                {"n": number},
                exchange=DLX,
                routing_key="device.d.reading",
                declare=[DLX, DEAD],
                delivery_mode=2,
            )
        queue = DEAD(connection.default_channel)
        kept = []
        while (message := queue.get(no_ack=True)) is not None:
            kept.append(message.payload["n"])
    assert kept == [2, 3, 4]


def test_the_policy_is_set_on_the_installations_virtual_host(rabbit_config):
    common = config.settings("common")
    uri = rabbit_config["AMQP_URI"]
    apply_dead_letter_policy(common["RABBIT_MANAGEMENT_URI"], uri, 7, 1000)
    apply_dead_letter_policy(common["RABBIT_MANAGEMENT_URI"], uri, 8, 1000)  # again
    api = common["RABBIT_MANAGEMENT_URI"].rstrip("/") + "/api"
    vhost = requests.utils.quote(vhost_of(uri), safe="")
    policy = requests.get(
        f"{api}/policies/{vhost}/{POLICY}", auth=("guest", "guest"), timeout=10
    ).json()
    assert policy["definition"] == {
        "max-length": 8,
        "max-length-bytes": 1000,
        "overflow": "drop-head",
    }
