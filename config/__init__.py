"""Process settings: the one place where the environment becomes configuration.

Every process reads one YAML file from this folder. Values may name environment
variables as ``${NAME:default}``, the syntax ``nameko run --config`` understands, so a
Nameko service and a plain process (balancer, ws_gateway, CLI) read settings alike.
"""

from pathlib import Path

import yaml
from nameko.cli.main import setup_yaml_parser

CONFIG_DIR = Path(__file__).resolve().parent
ROOT_DIR = CONFIG_DIR.parent

setup_yaml_parser()


def load(name: str) -> dict:
    """Return the settings of process ``name`` (``config/<name>.yaml``)."""
    with open(CONFIG_DIR / f"{name}.yaml") as stream:
        return yaml.safe_load(stream)


def load_text(text: str) -> dict:
    """Return settings from YAML text, with ``${NAME:default}`` substituted."""
    return yaml.safe_load(text)
