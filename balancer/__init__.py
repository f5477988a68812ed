"""The balancer: relays readings from ``balancer.raw`` to the ingest queues in turn."""
