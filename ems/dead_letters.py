"""``ems dead-letters``: list, inspect, replay, delete or purge the dead letters
monitoring keeps, through the same RPC as ``/api/dead-letters``.

ems dead-letters list [--reason TEXT] [--limit N] [--json]
ems dead-letters show ID
ems dead-letters replay ID
ems dead-letters delete ID
ems dead-letters purge [--reason TEXT]
"""

import argparse
import json
import sys

from nameko.standalone.rpc import ClusterRpcProxy

import config
from services.common.errors import EmsError
from services.common.policy import ADMIN
from services.common.rpc import know_errors_of

RPC_TIMEOUT = 30
#: Whom the command acts for: the platform's administrator at its console, whose
#: broker login (``AMQP_URI_COMMAND``) already lets them call every service.
CALLER = {"user_id": None, "role": ADMIN}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="the newest dead letters")
    listing.add_argument("--reason", help="only those whose reason contains this")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print them as JSON")
    for action, text in (
        ("show", "one dead letter with its body"),
        ("replay", "publish it again where it was first published, and remove it"),
        ("delete", "delete one dead letter"),
    ):
        actions.add_parser(action, help=text).add_argument("id")
    purge = actions.add_parser("purge", help="delete every dead letter")
    purge.add_argument("--reason", help="only those whose reason contains this")
    parser.set_defaults(handler=run)


def line(letter: dict) -> str:
    return "  ".join(
        [
            letter["id"],
            letter["received_at"],
            letter["service"],
            letter["routing_key"],
            f"{letter['size']} B",
            letter["reason"],
        ]
    )


def _query(**values) -> dict:
    """The options given, as the query of the matching route."""
    return {name: value for name, value in values.items() if value is not None}


def perform(monitoring, args, out) -> None:
    if args.action == "list":
        letters = monitoring.list_dead_letters(
            CALLER, _query(reason=args.reason, limit=args.limit)
        )
        if args.json:
            print(json.dumps(letters, indent=2), file=out)
        else:
            for letter in letters:
                print(line(letter), file=out)
            print(f"{len(letters)} dead letters", file=out)
    elif args.action == "show":
        letter = monitoring.get_dead_letter(CALLER, args.id)
        print(json.dumps(letter, indent=2), file=out)
    elif args.action == "replay":
        done = monitoring.replay_dead_letter(CALLER, args.id)
        print(
            f"replayed {done['id']} to {done['exchange']} {done['routing_key']}",
            file=out,
        )
    elif args.action == "delete":
        monitoring.delete_dead_letter(CALLER, args.id)
        print(f"deleted {args.id}", file=out)
    else:
        deleted = monitoring.purge_dead_letters(CALLER, _query(reason=args.reason))[
            "deleted"
        ]
        print(f"deleted {deleted} dead letters", file=out)


def run(args, out=sys.stdout) -> int:
    common = config.settings("common")
    know_errors_of("monitoring")
    with ClusterRpcProxy(
        {"AMQP_URI": common["AMQP_URI_COMMAND"] or common["AMQP_URI"]},
        timeout=RPC_TIMEOUT,
    ) as cluster:
        try:
            perform(cluster.monitoring, args, out)
        except EmsError as exc:
            print(f"ems dead-letters: {exc.message}", file=sys.stderr)
            return 1
    return 0
