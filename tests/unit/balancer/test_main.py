"""``python -m balancer``'s settings (``config``, process ``balancer``) and the
environment."""

import config
from balancer.__main__ import make_relay, target_queues


def test_defaults_relay_to_both_ingest_queues():
    relay = make_relay(config.settings("balancer", {}))
    assert relay.ledger.targets == ["monitoring.ingest.1", "monitoring.ingest.2"]
    assert relay.prefetch == 500


def test_environment_overrides():
    environ = {
        "EMS_BALANCER_TARGETS": "q.a, q.b,q.c",
        "EMS_BALANCER_PREFETCH": "20",
        "EMS_BALANCER_STATS_INTERVAL": "2",
    }
    relay = make_relay(config.settings("balancer", environ))
    assert relay.ledger.targets == ["q.a", "q.b", "q.c"]
    assert (relay.prefetch, relay.stats_interval) == (20, 2.0)


def test_target_queues_from_a_string_or_a_list():
    assert target_queues("monitoring.ingest.1") == ["monitoring.ingest.1"]
    assert target_queues(["a", " b "]) == ["a", "b"]
