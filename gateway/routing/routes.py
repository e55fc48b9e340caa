"""Route entries: a path template, methods and a target, plus who may call it (access_rules.py)
and an optional canary and shadow.

routes:
  - path: /api/flights/{id}
    methods: [GET]
    target: flights
    access: {owner: booking, in: path}
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import yaml

from gateway.routing.access_rules import AccessRule, read_access
from gateway.routing.document import Reader, line_of
from gateway.routing.errors import Problem
from gateway.routing.policies import Canary, Shadow, read_canary, read_shadow, read_target
from gateway.routing.templates import PathTemplate, TemplateError, path_parts

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_KEYS = ("path", "methods", "target", "access", "canary", "shadow")


@dataclass(frozen=True)
class Route:
    """One entry of `routes:`; `index` is its 0-based position, `methods` None means all."""

    index: int
    path: str
    methods: frozenset[str] | None
    target: str
    canary: Canary | None = None
    shadow: Shadow | None = None
    line: int = 0
    access: AccessRule | None = None
    template: PathTemplate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "template", PathTemplate.parse(self.path))

    @property
    def key(self) -> str:
        """A stable label for stats: "GET /api/flights", "GET,HEAD /api/x", "* /api/trips/{id}"."""
        methods = ",".join(sorted(self.methods)) if self.methods is not None else "*"
        return f"{methods} {self.path}"

    @property
    def label(self) -> str:
        """How reasons and messages name it: "routes[1] GET /api/flights"."""
        return f"routes[{self.index}] {self.key}"

    def matches(self, method: str, path: str) -> bool:
        return self.matches_parts(method, path_parts(path))

    def matches_parts(self, method: str, parts: list[str]) -> bool:
        allowed = self.methods is None or method.upper() in self.methods
        return allowed and self.template.matches_parts(parts)


def read_routes(
    reader: Reader, node: yaml.Node | None, *, backends: Collection[str]
) -> tuple[Route, ...]:
    if node is None:
        return ()
    fix = "write routes as a list of entries starting with - path: ..."
    entries = [
        _route(reader, item, index, backends)
        for index, item in enumerate(reader.items(node, "routes", "routes", fix=fix))
    ]
    routes = tuple(route for route in entries if route is not None)
    reader.problems.extend(unreachable_problems(routes, source=reader.source))
    return routes


def unreachable_problems(routes: Sequence[Route], *, source: str) -> list[Problem]:
    """Entries that an earlier entry with the same template and all their methods hides."""
    problems = []
    for position, route in enumerate(routes):
        hider = next((earlier for earlier in routes[:position] if _hides(earlier, route)), None)
        if hider is not None:
            problem = (
                f"can never be reached: routes[{hider.index}] on line {hider.line} has the same "
                f"template ({hider.path}) and covers all of its methods"
            )
            fix = f"remove this entry, or merge it into routes[{hider.index}]"
            problems.append(
                Problem(source, route.line, _entry(route.index, route.path), problem, fix)
            )
    return problems


def _hides(earlier: Route, later: Route) -> bool:
    same_template = earlier.template.shape == later.template.shape
    if earlier.methods is None:
        return same_template
    return same_template and later.methods is not None and later.methods <= earlier.methods


def _entry(index: int, path: str | None) -> str:
    return f"routes[{index}] ({path})" if path else f"routes[{index}]"


def _raw_path(node: yaml.Node) -> str | None:
    """The path as written, to name the entry even when it is not a valid template."""
    if not isinstance(node, yaml.MappingNode):
        return None
    paths = [value.value for key, value in node.value if key.value == "path"]
    return paths[0] if paths and isinstance(paths[0], str) and paths[0] else None


def _route(reader: Reader, node: yaml.Node, index: int, backends: Collection[str]) -> Route | None:
    """The entry as a Route, or None when anything in it was reported."""
    problems_before = len(reader.problems)
    entry = _entry(index, _raw_path(node))
    fields = reader.fields(node, entry, what="a route", allowed=_KEYS)
    if fields is None:
        return None
    path = _path(reader, fields, node, entry)
    target = _target(reader, fields, node, entry, backends)
    methods = _methods(reader, fields.get("methods"), entry)
    canary, shadow = _policies(reader, fields, entry, target=target, backends=backends)
    access = (
        read_access(reader, fields["access"], entry, template=path) if "access" in fields else None
    )
    if shadow is not None and methods is not None and "GET" not in methods:
        fix = "add GET to methods, or remove shadow"
        reader.report(fields["shadow"], entry, "shadow copies GET requests only", fix)
    if len(reader.problems) > problems_before or path is None or target is None:
        return None
    return Route(index, path, methods, target, canary, shadow, line=line_of(node), access=access)


def _path(reader: Reader, fields: dict[str, yaml.Node], node: yaml.Node, entry: str) -> str | None:
    path_node = reader.require(fields, node, entry, key="path", hint="path: /api/...")
    if path_node is None:
        return None
    path = reader.text(path_node, entry, "path", fix="write a template like /api/flights/{id}")
    if path is None:
        return None
    try:
        PathTemplate.parse(path)
    except TemplateError as exc:
        reader.report(path_node, entry, exc.problem, exc.fix)
        return None
    return path


def _target(
    reader: Reader,
    fields: dict[str, yaml.Node],
    node: yaml.Node,
    entry: str,
    backends: Collection[str],
) -> str | None:
    target_node = reader.require(fields, node, entry, key="target", hint="target: <backend>")
    if target_node is None:
        return None
    return read_target(reader, target_node, entry, field="target", backends=backends)


def _methods(reader: Reader, node: yaml.Node | None, entry: str) -> frozenset[str] | None:
    """None (all methods) when the key is absent; upper-cased names otherwise."""
    if node is None:
        return None
    fix = f"list methods like [GET, POST] ({', '.join(METHODS)}), or drop the key for all"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        reader.report(node, entry, "methods must be a non-empty list", fix)
        return None
    names = [reader.text(item, entry, "methods", fix=fix) for item in node.value]
    methods = frozenset(name.upper() for name in names if name is not None)
    for unknown in sorted(methods - set(METHODS)):
        reader.report(node, entry, f"method {unknown!r} is not an HTTP method", fix)
    return methods


def _policies(
    reader: Reader,
    fields: dict[str, yaml.Node],
    entry: str,
    *,
    target: str | None,
    backends: Collection[str],
) -> tuple[Canary | None, Shadow | None]:
    canary = shadow = None
    if "canary" in fields:
        canary = read_canary(
            reader, fields["canary"], entry, route_target=target, backends=backends
        )
    if "shadow" in fields:
        shadow = read_shadow(
            reader, fields["shadow"], entry, route_target=target, backends=backends
        )
    return canary, shadow
