"""A route's canary and shadow settings, as values, and how they are read from the file.

canary: {target: flights, percent: 25, sticky: traveler}
    moves a share of the route's requests to another backend
shadow: {target: flights, percent: 100, ignore: ["$.updated_at"]}
    copies a share of its GET requests to another backend and compares the answers
"""

import re
from collections.abc import Collection
from dataclasses import dataclass

import yaml

from gateway.routing.document import Reader
from gateway.routing.shadow import parse_json_path

STICKY_KINDS = ("traveler", "header:<name>", "cookie:<name>", "random")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PERCENT_FIX = "use a whole number from 0 to 100"


@dataclass(frozen=True)
class Canary:
    """`sticky` is "traveler", "random", "header:<lower-case name>" or "cookie:<name>"."""

    target: str
    percent: int
    sticky: str = "traveler"


@dataclass(frozen=True)
class Shadow:
    target: str
    percent: int = 100
    ignore: tuple[str, ...] = ()


def read_target(
    reader: Reader, node: yaml.Node, entry: str, *, field: str, backends: Collection[str]
) -> str | None:
    """A backend name that `backends` knows, or None (reported)."""
    name = reader.text(node, entry, field, fix=f"name a backend ({_names(backends)})")
    if name is not None and name not in backends:
        fix = f"use one of the backends ({_names(backends)}) or add {name} under backends"
        reader.report(node, entry, f"{field} {name!r} is not a backend", fix)
        return None
    return name


def read_canary(
    reader: Reader,
    node: yaml.Node,
    entry: str,
    *,
    route_target: str | None,
    backends: Collection[str],
) -> Canary | None:
    fields = reader.fields(node, entry, what="canary", allowed=("target", "percent", "sticky"))
    if fields is None:
        return None
    target = _other_target(reader, fields, node, entry, "canary", route_target, backends)
    percent = _percent(reader, fields, node, entry, "canary", required=True)
    sticky = _sticky(reader, fields["sticky"], entry) if "sticky" in fields else "traveler"
    if target is None or percent is None or sticky is None:
        return None
    return Canary(target=target, percent=percent, sticky=sticky)


def read_shadow(
    reader: Reader,
    node: yaml.Node,
    entry: str,
    *,
    route_target: str | None,
    backends: Collection[str],
) -> Shadow | None:
    fields = reader.fields(node, entry, what="shadow", allowed=("target", "percent", "ignore"))
    if fields is None:
        return None
    target = _other_target(reader, fields, node, entry, "shadow", route_target, backends)
    percent = _percent(reader, fields, node, entry, "shadow", required=False)
    ignore = _ignore(reader, fields["ignore"], entry) if "ignore" in fields else ()
    if target is None or percent is None or ignore is None:
        return None
    return Shadow(target=target, percent=percent, ignore=ignore)


def _other_target(
    reader: Reader,
    fields: dict[str, yaml.Node],
    node: yaml.Node,
    entry: str,
    what: str,
    route_target: str | None,
    backends: Collection[str],
) -> str | None:
    """The canary's or shadow's target: a known backend other than the route's own."""
    hint = f"target: <backend> to {what}"
    target_node = reader.require(
        fields, node, entry, key="target", hint=hint, field=f"{what}.target"
    )
    if target_node is None:
        return None
    name = read_target(reader, target_node, entry, field=f"{what}.target", backends=backends)
    if name is not None and name == route_target:
        problem = f"{what}.target {name!r} is the route's own target"
        fix = f"point {what}.target at another backend, or remove {what}"
        reader.report(target_node, entry, problem, fix)
        return None
    return name


def _percent(
    reader: Reader,
    fields: dict[str, yaml.Node],
    node: yaml.Node,
    entry: str,
    what: str,
    *,
    required: bool,
) -> int | None:
    if "percent" not in fields:
        if required:
            reader.report(node, entry, f"{what}.percent is missing", "add percent: 0 to 100")
            return None
        return 100
    field = f"{what}.percent"
    return reader.whole_number(fields["percent"], entry, field, low=0, high=100, fix=_PERCENT_FIX)


def _sticky(reader: Reader, node: yaml.Node, entry: str) -> str | None:
    """ "traveler" | "random" | "header:X-Canary" → "header:x-canary" | "cookie:name"."""
    fix = f"use one of {', '.join(STICKY_KINDS)}"
    value = reader.text(node, entry, "canary.sticky", fix=fix)
    if value is None:
        return None
    kind, colon, name = value.partition(":")
    if (not colon and kind in ("traveler", "random")) or (
        kind in ("header", "cookie") and _TOKEN.fullmatch(name)
    ):
        return f"header:{name.lower()}" if kind == "header" else value
    reader.report(node, entry, f"canary.sticky {value!r} is not a sticky kind", fix)
    return None


def _ignore(reader: Reader, node: yaml.Node, entry: str) -> tuple[str, ...] | None:
    fix = 'write paths like "$.updated_at", "$.items[*].updated_at" or "$..updated_at"'
    items = reader.items(node, entry, "shadow.ignore", fix=f"make it a list: {fix}")
    paths = [_ignore_path(reader, item, entry, fix=fix) for item in items]
    valid = [path for path in paths if path is not None]
    return tuple(valid) if len(valid) == len(paths) else None


def _ignore_path(reader: Reader, node: yaml.Node, entry: str, *, fix: str) -> str | None:
    path = reader.text(node, entry, "shadow.ignore", fix=fix)
    if path is None:
        return None
    try:
        parse_json_path(path)
    except ValueError as exc:
        reader.report(node, entry, f"shadow.ignore: {exc}", fix)
        return None
    return path


def _names(backends: Collection[str]) -> str:
    return ", ".join(sorted(backends)) or "none defined"
