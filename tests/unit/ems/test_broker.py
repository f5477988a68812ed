"""The ``ems.dead`` policy ``ems prepare`` sets."""

import re

from ems.broker import dead_letter_policy
from services.common.amqp import vhost_of


def test_the_policy_matches_ems_dead_alone_and_drops_the_oldest():
    policy = dead_letter_policy(10_000, 1 << 26)
    pattern = re.compile(policy["pattern"])
    assert pattern.match("ems.dead")
    assert not pattern.match("ems.dead.letters") and not pattern.match("emsXdead")
    assert policy["apply-to"] == "queues"
    assert policy["definition"] == {
        "max-length": 10_000,
        "max-length-bytes": 1 << 26,
        "overflow": "drop-head",
    }


def test_the_virtual_host_comes_from_the_amqp_uri():
    assert vhost_of("amqp://guest:guest@127.0.0.1:5672/") == "/"
    assert vhost_of("amqp://guest:guest@127.0.0.1:5672") == "/"
    assert vhost_of("amqp://u:p@h:5672/ems_t1%2Fx") == "ems_t1/x"
