"""How the environment becomes settings: a ``Variable`` is one environment variable
(its name, default, type and meaning), a ``Derived`` setting is computed from
several, and ``resolve`` turns a template of them into plain settings."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass


def number(text: str) -> int | float:
    """An int where the text is one (``10``), a float otherwise (``0.05``)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def flag(text: str) -> bool:
    """False for ``0``, ``false``, ``no`` and ``off`` (any case), True otherwise."""
    return text.strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Variable:
    """One environment variable, declared once wherever its setting appears."""

    name: str
    default: object
    parse: Callable[[str], object]
    help: str
    #: Shown masked by ``python -m config``.
    secret: bool = False

    def read(self, environ: Mapping[str, str]) -> object:
        """The value ``environ`` gives, parsed, or the default. An empty value counts
        as none: compose passes an unset ``${NAME:-}`` on as empty."""
        text = environ.get(self.name, "")
        return self.default if text == "" else self.parse(text)


@dataclass(frozen=True)
class Derived:
    """A setting computed from variables: ``compute(*values of inputs)``."""

    compute: Callable[..., object]
    inputs: tuple[Variable, ...]

    def read(self, environ: Mapping[str, str]) -> object:
        return self.compute(*(variable.read(environ) for variable in self.inputs))


def resolve(template, environ: Mapping[str, str]):
    """``template`` with every ``Variable`` and ``Derived`` read from ``environ``;
    mappings and lists are copied, so no two results share anything."""
    if isinstance(template, dict):
        return {key: resolve(value, environ) for key, value in template.items()}
    if isinstance(template, list):
        return [resolve(value, environ) for value in template]
    if isinstance(template, Variable | Derived):
        return template.read(environ)
    return template


def variables_in(template) -> Iterator[Variable]:
    """Every variable ``template`` reads, in order, each once."""
    seen = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)
        elif isinstance(node, Derived):
            for variable in node.inputs:
                yield from walk(variable)
        elif isinstance(node, Variable) and node not in seen:
            seen.add(node)
            yield node

    yield from walk(template)


def environment(values: Mapping[Variable, object]) -> dict[str, str]:
    """The environment that gives each variable its value: what ``read`` reads."""
    return {variable.name: str(value) for variable, value in values.items()}
