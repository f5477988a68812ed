"""``ems run <service>``: one Nameko service with the settings ``config`` builds for
it, hosted by Nameko's own runner as ``nameko run`` would host it.

``ems`` has monkey-patched eventlet before anything else was imported; this logs as
the settings say (``LOGGING``), imports the service class, gives it its metrics and
probes (``services/common/service_metrics.py``) and runs it until SIGTERM or Ctrl-C.
"""

import logging.config

from nameko.cli.run import import_service
from nameko.cli.run import run as run_services

import config
from services.common.service_metrics import with_metrics

#: The class each Nameko service process runs, by its name in ``config``.
SERVICES = {
    "auth": "services.auth.service:AuthService",
    "users": "services.users.service:UsersService",
    "devices": "services.devices.service:DevicesService",
    "monitoring": "services.monitoring.service:MonitoringService",
    "monitoring_worker": "services.monitoring.worker:MonitoringWorker",
    "support": "services.support.service:SupportService",
    "batteries": "services.batteries.service:BatteriesService",
    "dr": "services.dr.service:DrService",
    "trading": "services.trading.service:TradingService",
    "gateway": "gateway.service:GatewayService",
    "mail": "services.mail.service:MailService",
    "alarms": "services.alarms.service:AlarmsService",
    "audit": "services.audit.service:AuditService",
}


def add_arguments(parser) -> None:
    parser.add_argument("service", choices=sorted(SERVICES), help="the service to run")
    parser.add_argument(
        "--backdoor-port",
        type=int,
        help="serve an interactive interpreter inside the process on this port "
        "(`nameko backdoor`)",
    )
    parser.set_defaults(handler=run)


def run(args) -> None:
    settings = config.settings(args.service)
    logging.config.dictConfig(settings["LOGGING"])
    run_services(
        [with_metrics(cls) for cls in import_service(SERVICES[args.service])],
        settings,
        backdoor_port=args.backdoor_port,
    )
