"""``python -m config <process>``: the settings ``process`` would run with in this
environment, passwords and keys masked; ``python -m config --variables [process]``:
the environment variables it reads, with their defaults and meaning."""

import argparse
import re
import sys

import yaml

import config
from config import variables
from config.environment import Variable

MASK = "********"
#: The password of a URL's ``user:password@``.
URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")


def masked(template, value):
    """``value`` with secret variables and URL passwords hidden."""
    if isinstance(value, dict):
        return {key: masked(template[key], item) for key, item in value.items()}
    if isinstance(template, Variable) and template.secret and value:
        return MASK
    if isinstance(value, str):
        return URL_PASSWORD.sub(rf"\1:{MASK}@", value)
    return value


def describe(read: list[Variable]) -> str:
    lines = []
    for variable in sorted(read, key=lambda variable: variable.name):
        default = "(none)" if variable.default is None else variable.default
        lines.append(f"{variable.name}={masked(None, default)}\n    {variable.help}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config", description=__doc__)
    parser.add_argument("process", nargs="?", choices=list(config.PROCESSES))
    parser.add_argument(
        "--variables", action="store_true", help="list the variables read instead"
    )
    args = parser.parse_args(argv)
    if args.variables:
        read = config.variables_of(args.process) if args.process else variables.ALL
        print(describe(list(read)))
        return 0
    if not args.process:
        parser.error("name a process, or --variables")
    template = config.PROCESSES[args.process]
    shown = masked(template, config.settings(args.process))
    print(yaml.safe_dump(shown, sort_keys=False, width=88), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
