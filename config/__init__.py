"""Process settings: the one place where the environment becomes configuration.

Each environment variable is declared once (``config.variables``: name, default,
type, meaning); each process's settings are a template over them, assembled from
shared blocks (``config.processes``). ``settings(process)`` reads that template
against the environment and returns the plain dict the process runs with; no other
code reads ``os.environ`` for a setting. ``python -m config <process>`` prints it.
"""

import os
from collections.abc import Mapping
from pathlib import Path

from config.environment import Variable, resolve, variables_in
from config.processes import PROCESSES

CONFIG_DIR = Path(__file__).resolve().parent
ROOT_DIR = CONFIG_DIR.parent


def settings(process: str, environ: Mapping[str, str] = os.environ) -> dict:
    """The settings of ``process`` (a name of ``PROCESSES``) in ``environ``."""
    if process not in PROCESSES:
        raise LookupError(f"no process {process!r}: one of {', '.join(PROCESSES)}")
    return resolve(PROCESSES[process], environ)


def variables_of(process: str) -> list[Variable]:
    """The environment variables ``process`` reads, in the order of its settings."""
    return list(variables_in(PROCESSES[process]))
