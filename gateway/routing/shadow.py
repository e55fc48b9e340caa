"""Comparing a primary answer with its shadow copy: which JSON paths differ.

    diff_paths({"id": "fl-1", "seat": "3A", "updated_at": "…"},
               {"id": "fl-1", "seat": "3C", "updated_at": "…later"},
               ignore=["$.updated_at"])                              → ["$.seat"]

Ignore paths take three forms, freely combined: `$.a.b` (that exact place), `$.items[*].x`
(`[*]` or `.*`: any one index or key) and `$..updated_at` (that key at any depth). An ignored
place is skipped with everything under it. Numbers compare by value (1 == 1.0), but true is
not 1, and a key missing on one side is a difference at that key's path.
"""

import json
import re
from collections.abc import Sequence
from typing import Any

# A step of a parsed ignore path: ("key", name), ("index", n), ("any", None), ("deep", None).
Step = tuple[str, str | int | None]
PathPart = str | int

_STEP = re.compile(
    r"\.\.(?P<deep>[A-Za-z_][\w-]*|\*)"
    r"|\.(?P<name>[A-Za-z_][\w-]*|\*)"
    r"|\[(?:(?P<index>\d+)|(?P<star>\*)|\"(?P<quoted>[^\"]*)\"|'(?P<single>[^']*)')\]"
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ABSENT = object()


def parse_json_path(text: str) -> tuple[Step, ...]:
    """ "$.items[*].updated_at" → (("key", "items"), ("any", None), ("key", "updated_at"))."""
    if not text.startswith("$"):
        raise ValueError(f"ignore path {text!r} must start with $")
    steps: list[Step] = []
    position = 1
    while position < len(text):
        found = _STEP.match(text, position)
        if found is None:
            raise ValueError(f"ignore path {text!r} cannot be read from {text[position:]!r}")
        steps.extend(_steps(found))
        position = found.end()
    return tuple(steps)


def diff_paths(primary: Any, shadow: Any, *, ignore: Sequence[str]) -> list[str]:
    """The JSON paths where the two bodies differ, in the primary's order; [] when equal."""
    patterns = [parse_json_path(path) for path in ignore]
    differences: list[str] = []
    _diff(primary, shadow, (), patterns, differences)
    return differences


def body_differences(primary: bytes, shadow: bytes, *, ignore: Sequence[str]) -> list[str]:
    """`diff_paths` of two JSON answers as sent. The same bytes are the same answer: [] at
    once, nothing decoded or walked (the usual case on a route whose new backend answers
    exactly as the old one; the walk cost a shadowed request more than its forward).
    ValueError when they differ and either is not JSON."""
    if primary == shadow:
        return []
    return diff_paths(json.loads(primary), json.loads(shadow), ignore=ignore)


def format_path(parts: Sequence[PathPart]) -> str:
    """("items", 3, "seat") → "$.items[3].seat"; ("a b",) → '$["a b"]'."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _steps(found: re.Match[str]) -> list[Step]:
    groups = found.groupdict()
    if groups["deep"] is not None:
        last: Step = ("any", None) if groups["deep"] == "*" else ("key", groups["deep"])
        return [("deep", None), last]
    if groups["name"] == "*" or groups["star"] is not None:
        return [("any", None)]
    if groups["index"] is not None:
        return [("index", int(groups["index"]))]
    name = next(g for g in (groups["name"], groups["quoted"], groups["single"]) if g is not None)
    return [("key", name)]


def _diff(
    primary: Any,
    shadow: Any,
    path: tuple[PathPart, ...],
    patterns: Sequence[tuple[Step, ...]],
    differences: list[str],
) -> None:
    if any(_matches(pattern, path) for pattern in patterns):
        return
    if isinstance(primary, dict) and isinstance(shadow, dict):
        keys = [*primary, *(key for key in shadow if key not in primary)]
        for key in keys:
            child = (*path, key)
            _diff(primary.get(key, _ABSENT), shadow.get(key, _ABSENT), child, patterns, differences)
    elif isinstance(primary, list) and isinstance(shadow, list):
        for index in range(max(len(primary), len(shadow))):
            left = primary[index] if index < len(primary) else _ABSENT
            right = shadow[index] if index < len(shadow) else _ABSENT
            _diff(left, right, (*path, index), patterns, differences)
    elif not _same(primary, shadow):
        differences.append(format_path(path))


def _matches(pattern: Sequence[Step], path: Sequence[PathPart]) -> bool:
    """Whether the whole of `path` fits `pattern`."""
    if not pattern:
        return not path
    kind, argument = pattern[0]
    if kind == "deep":
        return any(_matches(pattern[1:], path[start:]) for start in range(len(path) + 1))
    if not path:
        return False
    part = path[0]
    fits = (
        kind == "any"
        or (kind == "key" and isinstance(part, str) and part == argument)
        or (kind == "index" and isinstance(part, int) and part == argument)
    )
    return fits and _matches(pattern[1:], path[1:])


def _same(primary: Any, shadow: Any) -> bool:
    return _json_kind(primary) == _json_kind(shadow) and bool(primary == shadow)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__
