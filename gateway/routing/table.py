"""The route table: which backend answers which endpoint, read once from `routes.yaml`.

    table = load_table("routes.yaml")    # or RoutesError, naming file, line, entry and fix
    table.select(RouteRequest("GET", "/api/flights/fl-1")).backend.name   → "flights"

The table is a frozen value; `RouteTableSource` (reload.py) swaps in a new one when the file
changes. The entries are read in backends.py, routes.py and policies.py (canary, shadow);
the per-request decision is made in select.py.
"""

import hashlib
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from gateway.routing.backends import Backend, read_backends
from gateway.routing.document import INVALID, Reader, compose, describe, expand_text
from gateway.routing.errors import RoutesError
from gateway.routing.policies import Canary, Shadow, read_target
from gateway.routing.routes import Route, read_routes
from gateway.routing.select import Caller, RouteDecision, RouteRequest, decide
from gateway.routing.templates import path_parts

__all__ = [
    "Backend",
    "Caller",
    "Canary",
    "Route",
    "RouteDecision",
    "RouteRequest",
    "RouteTable",
    "RoutesError",
    "Shadow",
    "default_table",
    "load_table",
    "parse_table",
]

_TOP_KEYS = ("version", "backends", "default", "routes")


@dataclass(frozen=True)
class RouteTable:
    """`version` is a short hash of the expanded file, shown by health checks and the CLI."""

    version: str
    source: str
    backends: Mapping[str, Backend]
    default: str
    routes: tuple[Route, ...] = ()
    # The file as parsed, ${VAR}s expanded: what `routes status --gateway` rebuilds the table
    # from. Empty for the built-in default table.
    text: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "backends", MappingProxyType(dict(self.backends)))
        object.__setattr__(self, "_index", _RouteIndex(self.routes))

    def match(self, method: str, path: str) -> Route | None:
        """The most specific route for the request; ties go to the earlier entry."""
        parts = path_parts(path)
        index: _RouteIndex = object.__getattribute__(self, "_index")
        candidates = [
            route for route in index.candidates(parts) if route.matches_parts(method, parts)
        ]
        return max(
            candidates, key=lambda route: (route.template.specificity, -route.index), default=None
        )

    def select(
        self, request: RouteRequest, *, roll: Callable[[], float] = random.random
    ) -> RouteDecision:
        """Where this request goes and why; `roll` gives [0, 1) draws for random choices."""
        return decide(self, request, roll=roll)


class _RouteIndex:
    """Routes by their first two literal segments, so that a request is tried only against
    the routes that can match it (the passthrough asks once per request)."""

    PREFIX = 2

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self.general: list[Route] = []  # a {param} or /** within the first two segments
        self.by_prefix: dict[tuple[str, ...], list[Route]] = {}
        for route in routes:
            head = route.template.segments[: self.PREFIX]
            if len(head) == self.PREFIX and all(part is not None for part in head):
                self.by_prefix.setdefault(tuple(str(part) for part in head), []).append(route)
            else:
                self.general.append(route)

    def candidates(self, parts: list[str]) -> list[Route]:
        found = self.by_prefix.get(tuple(parts[: self.PREFIX]))
        return self.general if found is None else [*found, *self.general]


def parse_table(text: str, *, source: str, env: Mapping[str, str]) -> RouteTable:
    """Read and check a whole routes file; RoutesError lists every problem found."""
    reader = Reader(source=source, env=env)
    root = compose(text, source=source)
    fields = reader.fields(root, "", what="the file", allowed=_TOP_KEYS)
    if fields is None:
        raise RoutesError(reader.problems)
    _check_format_version(reader, fields, root)
    backends, names = _backends(reader, fields, root)
    default = _default(reader, fields, root, names)
    routes = read_routes(reader, fields.get("routes"), backends=names)
    if reader.problems or default is None:
        raise RoutesError(sorted(reader.problems, key=lambda problem: problem.line))
    expanded = expand_text(text, env)
    version = hashlib.sha256(expanded.encode()).hexdigest()[:12]
    return RouteTable(
        version=version,
        source=source,
        backends=backends,
        default=default,
        routes=routes,
        text=expanded,
    )


def load_table(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> RouteTable:
    """parse_table() on a file; OSError when it cannot be read. `env` defaults to os.environ."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_table(text, source=os.fspath(path), env=os.environ if env is None else env)


def default_table(*, legacy_url: str, flights_url: str | None) -> RouteTable:
    """The table used when there is no routes file: every endpoint goes to legacy."""
    backends = {"legacy": Backend("legacy", legacy_url.rstrip("/"), 3.0)}
    if flights_url is not None:
        backends["flights"] = Backend("flights", flights_url.rstrip("/"), 2.0)
    fingerprint = repr(sorted((b.name, b.url, b.timeout_s) for b in backends.values()))
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    return RouteTable(version, "<built-in default>", backends, "legacy")


def _check_format_version(reader: Reader, fields: dict[str, yaml.Node], root: yaml.Node) -> None:
    node = reader.require(fields, root, "", key="version", hint="version: 1 at the top")
    value = INVALID if node is None else reader.value(node, "", "version")
    if node is not None and value is not INVALID and (value != 1 or isinstance(value, bool)):
        fix = "write version: 1 (the only format this gateway reads)"
        reader.report(node, "", f"version {describe(value)} is not supported", fix)


def _backends(
    reader: Reader, fields: dict[str, yaml.Node], root: yaml.Node
) -> tuple[dict[str, Backend], frozenset[str]]:
    hint = 'backends: {legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}}'
    node = reader.require(fields, root, "", key="backends", hint=hint)
    return ({}, frozenset()) if node is None else read_backends(reader, node)


def _default(
    reader: Reader, fields: dict[str, yaml.Node], root: yaml.Node, names: frozenset[str]
) -> str | None:
    """The backend for endpoints that no route names."""
    node = reader.require(fields, root, "", key="default", hint="default: legacy")
    if node is None:
        return None
    return read_target(reader, node, "", field="default", backends=names)
