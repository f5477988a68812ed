"""``python -m balancer``'s settings: config/balancer.yaml and the environment."""

import config as settings
from balancer.__main__ import make_relay, target_queues


def test_defaults_relay_to_both_ingest_queues(monkeypatch):
    for name in ("EMS_BALANCER_TARGETS", "EMS_BALANCER_PREFETCH"):
        monkeypatch.delenv(name, raising=False)
    relay = make_relay(settings.load("balancer"))
    assert relay.ledger.targets == ["monitoring.ingest.1", "monitoring.ingest.2"]
    assert relay.prefetch == 500


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("EMS_BALANCER_TARGETS", "q.a, q.b,q.c")
    monkeypatch.setenv("EMS_BALANCER_PREFETCH", "20")
    monkeypatch.setenv("EMS_BALANCER_STATS_INTERVAL", "2")
    relay = make_relay(settings.load("balancer"))
    assert relay.ledger.targets == ["q.a", "q.b", "q.c"]
    assert (relay.prefetch, relay.stats_interval) == (20, 2.0)


def test_target_queues_from_a_string_or_a_list():
    assert target_queues("monitoring.ingest.1") == ["monitoring.ingest.1"]
    assert target_queues(["a", " b "]) == ["a", "b"]
