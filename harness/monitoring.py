"""Monitoring on a real broker and database with the devices service stood in
for: the services, the worker on one ingest queue, and messages published to them
as the balancer and ``ems.sync`` would (tests/interface)."""

from kombu import Connection
from nameko.rpc import rpc

from services.common.errors import NotFound
from services.common.topology import SYNC
from services.monitoring.service import MonitoringService
from services.monitoring.worker import MonitoringWorker


class FakeDevices:
    """``devices`` as monitoring asks it: devices and sites by id, and a site's
    devices. A test fills ``devices`` and ``sites``."""

    name = "devices"
    devices: dict[str, dict] = {}
    sites: dict[str, dict] = {}

    @rpc(expected_exceptions=NotFound)
    def describe_device(self, device_id):
        if device_id not in FakeDevices.devices:
            raise NotFound()
        return FakeDevices.devices[device_id]

    @rpc(expected_exceptions=NotFound)
    def describe_site(self, site_id):
        if site_id not in FakeDevices.sites:
            raise NotFound()
        return FakeDevices.sites[site_id]

    @rpc
    def list_devices(self, caller, query):
        return [
            device
            for device in FakeDevices.devices.values()
            if device["site_id"] == query["site_id"]
        ]


def start_monitoring(container_factory, service_config, queue, *others, **worker):
    """FakeDevices (emptied), the ``others`` stand-ins, the monitoring service and
    a worker on ``queue`` (``worker``: its settings beyond a small batch's);
    the settings to reach them with."""
    FakeDevices.devices, FakeDevices.sites = {}, {}
    for service in (FakeDevices, *others):
        container_factory(service, service_config()).start()
    container_factory(MonitoringService, service_config("monitoring")).start()
    settings = {
        "INGEST_QUEUE": queue.name,
        "BATCH_SIZE": 200,
        "BATCH_WAIT": 0.05,
        "MAX_READING_KWH": 100,
        "RPC_TIMEOUT": 5,
        **worker,
    }
    container_factory(
        MonitoringWorker, service_config("monitoring_worker", **settings)
    ).start()
    return service_config()


def publish(config, queue, routing_key, bodies, exchange=None) -> None:
    """Persistent JSON messages: on ``queue`` (the default exchange) or, with
    ``exchange`` (``ems.sync``), under ``routing_key``."""
    with Connection(config["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                exchange=exchange or "",
                routing_key=routing_key,
                declare=[queue] if exchange is None else [SYNC],
                serializer="json",
                delivery_mode=2,
            )
