"""Reading a routes document: YAML nodes → checked Python values, keeping every problem.

It works on `yaml.compose()` nodes rather than `yaml.safe_load()` output, so that each problem
can name its line, a key given twice is caught, and `${VAR}` is expanded per value: a plain
(unquoted) value is typed after expansion, so `percent: ${CANARY_PERCENT}` with
CANARY_PERCENT=25 reads as the number 25.
"""

import difflib
import enum
import re
from collections.abc import Mapping, Sequence

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from gateway.routing.errors import Problem, RoutesError

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_RESOLVER = Resolver()


class _Invalid(enum.Enum):
    """A value that could not be read; the problem is already recorded."""

    INVALID = enum.auto()


INVALID = _Invalid.INVALID


def expand_text(text: str, env: Mapping[str, str]) -> str:
    """Replace every set `${VAR}` in `text`; unset ones stay as written (used for hashing)."""
    return _VARIABLE.sub(lambda found: env.get(found[1], found[0]), text)


def compose(text: str, *, source: str) -> yaml.Node:
    """The document's root node, or RoutesError for broken YAML and an empty file."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        problem = f"not valid YAML: {exc.problem or exc.context}"
        raise RoutesError([Problem(source, line, "", problem, "fix the syntax there")]) from exc
    except yaml.YAMLError as exc:
        raise RoutesError([Problem(source, 0, "", f"not valid YAML: {exc}", "fix it")]) from exc
    if root is None:
        fix = "start with version: 1, then backends, default and routes (see docs/routes.md)"
        raise RoutesError([Problem(source, 1, "", "the file is empty", fix)])
    return root


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def describe(value: object) -> str:
    """How a wrong value is shown in a message: "'abc'", "12.5", "null", "a list"."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value) if isinstance(value, str) else str(value)


class Reader:
    """Reads values out of nodes for one file; every problem lands in `problems`."""

    def __init__(self, *, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env
        self.problems: list[Problem] = []
        self._constructor = SafeConstructor()

    def report(self, node: yaml.Node, entry: str, problem: str, fix: str) -> None:
        self.problems.append(Problem(self.source, line_of(node), entry, problem, fix))

    def fields(
        self, node: yaml.Node, entry: str, *, what: str, allowed: Sequence[str]
    ) -> dict[str, yaml.Node] | None:
        """The key → value nodes of a mapping; unknown and repeated keys are reported."""
        if not isinstance(node, yaml.MappingNode):
            self.report(node, entry, f"{what} must be a mapping", f"write it as {_keys(allowed)}")
            return None
        found: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key not in allowed:
                self._unknown_key(key_node, entry, what=what, key=key, allowed=allowed)
            elif key in found:
                self.report(key_node, entry, f"{key} is given twice", "keep only one of them")
            else:
                found[key] = value_node
        return found

    def require(
        self,
        fields: Mapping[str, yaml.Node],
        node: yaml.Node,
        entry: str,
        *,
        key: str,
        hint: str,
        field: str | None = None,
    ) -> yaml.Node | None:
        """fields[key], or None after reporting that `field` (default: key) is missing."""
        if key not in fields:
            self.report(node, entry, f"{field or key} is missing", f"add {hint}")
            return None
        return fields[key]

    def value(self, node: yaml.Node, entry: str, field: str) -> object:
        """A single value with `${VAR}` expanded, or INVALID (already reported)."""
        if not isinstance(node, yaml.ScalarNode):
            kind = "list" if isinstance(node, yaml.SequenceNode) else "mapping"
            self.report(node, entry, f"{field} must be a single value, not a {kind}", "fix it")
            return INVALID
        expanded = self._expand(node, entry, field)
        if expanded is None:
            return INVALID
        try:
            return self._constructor.construct_object(_retyped(node, expanded))
        except yaml.YAMLError as exc:
            self.report(node, entry, f"{field} cannot be read: {exc}", "write a plain value")
            return INVALID

    def text(self, node: yaml.Node, entry: str, field: str, *, fix: str) -> str | None:
        """A non-empty string, or None (reported)."""
        value = self.value(node, entry, field)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, str):
            self.report(node, entry, f"{field} is empty", fix)
        elif value is not INVALID:
            self.report(node, entry, f"{field} must be text, not {describe(value)}", fix)
        return None

    def whole_number(
        self, node: yaml.Node, entry: str, field: str, *, low: int, high: int, fix: str
    ) -> int | None:
        """An int in low..high, or None (reported)."""
        value = self.value(node, entry, field)
        if value is INVALID:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(node, entry, f"{field} {describe(value)} is not a whole number", fix)
            return None
        if not low <= value <= high:
            self.report(node, entry, f"{field} {value} is outside {low}-{high}", fix)
            return None
        return value

    def items(self, node: yaml.Node, entry: str, field: str, *, fix: str) -> list[yaml.Node]:
        """The nodes of a list, or [] (reported when it is not a list)."""
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
            self.report(node, entry, f"{field} must be a list", fix)
        return []

    def _expand(self, node: yaml.ScalarNode, entry: str, field: str) -> str | None:
        names = dict.fromkeys(
            name for name in _VARIABLE.findall(node.value) if name not in self.env
        )
        for name in names:
            problem = f"{field} uses ${{{name}}}, which is not set"
            self.report(node, entry, problem, f"set {name} in the environment")
        return None if names else expand_text(node.value, self.env)

    def _unknown_key(
        self, node: yaml.Node, entry: str, *, what: str, key: str | None, allowed: Sequence[str]
    ) -> None:
        if key is None:
            self.report(node, entry, f"{what} has a key that is not a plain name", "fix the key")
            return
        close = difflib.get_close_matches(key, allowed, n=1)
        fix = f"rename it to {close[0]}" if close else f"remove it ({what} takes {_keys(allowed)})"
        self.report(node, entry, f"unknown key {key!r} in {what}", fix)


def _retyped(node: yaml.ScalarNode, expanded: str) -> yaml.ScalarNode:
    """The node with its expanded text; a plain value is typed again: "${N}" → 25 (an int)."""
    tag = node.tag
    if expanded != node.value and node.style is None:
        # resolve() is untyped in types-PyYAML
        tag = _RESOLVER.resolve(yaml.ScalarNode, expanded, (True, False))  # type: ignore[no-untyped-call]
    return yaml.ScalarNode(tag, expanded, node.start_mark, node.end_mark, node.style)


def _keys(allowed: Sequence[str]) -> str:
    return ", ".join(f"{key}:" for key in allowed)
