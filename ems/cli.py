"""``ems``: prepare the installation, run helper processes, feed the platform.

ems prepare     signing keys, databases and migrations (idempotent)
ems migrate     alembic upgrade head on every database
ems run         one Nameko service, with the settings config builds for it
ems bootstrap   wait for the services, ensure the ADMIN, print URLs and logins
ems traefik     run Traefik with the static configuration for this environment
ems maildev     run the development SMTP server and its web inbox (maildev)
ems prometheus  run Prometheus with the platform's scrape targets and alerting rules
ems alertmanager  run Alertmanager, which e-mails the alerts that fire
ems postgres-exporter  run PostgreSQL's metrics exporter for Prometheus
ems simulate    publish readings of simulated devices (AMQP or MQTT)
ems dead-letters list|show|replay|delete|purge   the messages the platform refused
"""

import warnings

# eventlet announces at import that it is deprecated, as a warning of a class of its
# own (not a DeprecationWarning, so the default filters let it through). The notice
# says nothing about the platform and would stand before every command's output.
warnings.filterwarnings("ignore", r"\s*Eventlet is deprecated", Warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()  # noqa: E402 - before anything else, as in every process

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import config  # noqa: E402
from ems import accounts, broker, commands, dead_letters  # noqa: E402
from ems import run as run_service  # noqa: E402
from simulator import cli as simulator_cli  # noqa: E402


def broker_env_file():
    return accounts.var_dir(config.settings("common")) / "broker.env"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ems", description=__doc__.split("\n")[0])
    sub = root.add_subparsers(dest="command", required=True)

    sub.add_parser("prepare", help="signing keys, databases and migrations")
    sub.add_parser("migrate", help="alembic upgrade head on every database")
    run_service.add_arguments(
        sub.add_parser(
            "run",
            help="run one Nameko service with its settings",
            description=run_service.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    bootstrap = sub.add_parser(
        "bootstrap", help="wait for the services, ensure the ADMIN, print the URLs"
    )
    bootstrap.add_argument(
        "--exit",
        action="store_true",
        help="exit when done instead of idling (a process list stops all on exit)",
    )
    bootstrap.add_argument("--timeout", type=float, default=120.0)
    sub.add_parser("traefik", help="run Traefik configured for this environment")
    sub.add_parser("maildev", help="run the development SMTP server and web inbox")
    sub.add_parser(
        "prometheus", help="run Prometheus with the platform's targets and alerts"
    )
    sub.add_parser("alertmanager", help="run Alertmanager, which e-mails the alerts")
    sub.add_parser(
        "postgres-exporter", help="run PostgreSQL's metrics exporter for Prometheus"
    ).set_defaults(handler=commands.postgres_exporter)
    simulate = sub.add_parser(
        "simulate",
        help="publish readings of simulated devices (AMQP or MQTT)",
        description=simulator_cli.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulator_cli.add_arguments(simulate)
    dead = sub.add_parser(
        "dead-letters",
        help="list, inspect, replay or purge the messages the platform refused",
        description=dead_letters.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dead_letters.add_arguments(dead)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # The installation's broker logins, for an ``ems`` command run from a shell;
    # what the environment already says wins.
    for key, value in broker.read_env(broker_env_file()).items():
        os.environ.setdefault(key, value)
    # A subcommand that lives in its own package names its handler itself.
    handler = getattr(args, "handler", None) or getattr(commands, args.command)
    return handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
