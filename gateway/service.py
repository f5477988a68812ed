"""gateway: the public API's edge. Each route is a row (``gateway/api/``); the
gateway checks the caller, parses the body and forwards the request to the service
that owns the route, which validates it and decides (``gateway/edge.py``).

Every route but register, login, health and the OpenAPI document needs
``Authorization: Bearer <token>``. Traefik's ForwardAuth has already had auth check
it, and auth's signed identity came with the request; a request that reaches the
gateway some other way has its token checked by auth over RPC, so it is held to
the same rule (``services/common/identity.py``).
"""

import eventlet
from nameko.dependency_providers import Config

from gateway import exports
from gateway.api import ROUTES
from gateway.edge import SERVICES, Forwarding, serve
from gateway.openapi import build_spec
from gateway.operations import Overview, Prometheus
from services.common.http import json_response

#: How long each service may take to say it is healthy.
HEALTH_TIMEOUT = 2.0
#: How long the operations page waits for Prometheus, and for each process.
OPERATIONS_TIMEOUT = 2.0


@serve(ROUTES)
class GatewayService(Forwarding):
    name = "gateway"
    config = Config()

    # -- the gateway's own routes ------------------------------------------------

    def health(self):
        """Each service's status; 503 when one does not answer. What a service
        says beyond its status is of a server outside the platform it depends
        on (the mail service's SMTP server), reported under ``dependencies``
        without making the platform unhealthy."""
        services, dependencies = {}, {}
        for name in SERVICES:
            try:
                with eventlet.Timeout(HEALTH_TIMEOUT):
                    reply = getattr(self, f"{name}_rpc").health.call_async()
                    answer = reply.result()
                    services[name] = answer["status"]
                    dependencies.update(
                        (key, value) for key, value in answer.items() if key != "status"
                    )
            except (Exception, eventlet.Timeout):
                services[name] = "unavailable"
        healthy = all(status == "ok" for status in services.values())
        return json_response(
            200 if healthy else 503,
            {
                "status": "ok" if healthy else "degraded",
                "services": services,
                "dependencies": dependencies,
            },
        )

    def operations(self, caller):
        """The platform's own state for ADMIN (``gateway/operations.py``)."""
        prometheus = Prometheus(self.config["PROMETHEUS_URL"], OPERATIONS_TIMEOUT)
        return Overview(prometheus, OPERATIONS_TIMEOUT)()

    def openapi(self):
        return json_response(200, build_spec(type(self)))

    def export_energy(self, caller, query):
        """``/api/energy``'s series as CSV, streamed (``gateway/exports.py``)."""
        return exports.energy_csv(self.config, self.monitoring_rpc, caller, query)

    def export_readings(self, caller, query):
        """A device's raw readings as CSV, streamed (``gateway/exports.py``)."""
        return exports.readings_csv(self.config, self.monitoring_rpc, caller, query)

    def site_report(self, caller, site_id, query):
        """A site's monthly report, as the PDF monitoring makes."""
        return exports.pdf(self.monitoring_rpc.site_report(caller, site_id, query))
