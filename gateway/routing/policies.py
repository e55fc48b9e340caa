"""A route's canary and shadow settings, as values, and how they are read from the file.

canary: {target: flights, percent: 25, sticky: traveler}
    moves a share of the route's requests to another backend
canary: {..., auto: {step: 10, every: 60s, max_error_rate: 0.01, max_p99_ratio: 1.5,
                     min_shadow_match: 0.99, min_requests: 20}}
    lets the gateways ramp that share themselves (ramp.py decides, ramp_state.py shares)
shadow: {target: flights, percent: 100, ignore: ["$.updated_at"]}
    copies a share of its GET requests to another backend and compares the answers
"""

import re
from collections.abc import Collection
from dataclasses import dataclass

import yaml

from gateway.routing.document import INVALID, Reader, describe
from gateway.routing.shadow import parse_json_path

STICKY_KINDS = ("traveler", "header:<name>", "cookie:<name>", "random")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PERCENT_FIX = "use a whole number from 0 to 100"


@dataclass(frozen=True)
class Auto:
    """The gates of a self-ramping canary. `min_shadow_match` None: no shadow gate."""

    step: int = 10
    every_s: float = 60.0
    max_error_rate: float = 0.01
    max_p99_ratio: float = 1.5
    min_shadow_match: float | None = None
    min_requests: int = 20  # canary requests in a window before it may move up


@dataclass(frozen=True)
class Canary:
    """`sticky` is "traveler", "random", "header:<lower-case name>" or "cookie:<name>".
    With `auto`, `percent` is where the ramp starts; the live share is in ramp_state."""

    target: str
    percent: int
    sticky: str = "traveler"
    auto: Auto | None = None


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
    allowed = ("target", "percent", "sticky", "auto")
    fields = reader.fields(node, entry, what="canary", allowed=allowed)
    if fields is None:
        return None
    target = _other_target(reader, fields, node, entry, "canary", route_target, backends)
    percent = _percent(reader, fields, node, entry, "canary", required=True)
    sticky = _sticky(reader, fields["sticky"], entry) if "sticky" in fields else "traveler"
    auto = _auto(reader, fields["auto"], entry) if "auto" in fields else None
    if target is None or percent is None or sticky is None or auto is INVALID_AUTO:
        return None
    return Canary(target=target, percent=percent, sticky=sticky, auto=auto)


INVALID_AUTO = Auto(step=0)  # a marker: the auto mapping had problems (already reported)
_AUTO_KEYS = (
    "step",
    "every",
    "max_error_rate",
    "max_p99_ratio",
    "min_shadow_match",
    "min_requests",
)
_EVERY = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m)")
_EVERY_FIX = "write a duration like 60s, 2m or 500ms (at least 100ms, at most 24h)"


def _auto(reader: Reader, node: yaml.Node, entry: str) -> Auto:
    """canary.auto, or INVALID_AUTO after reporting each bad key with its line."""
    fields = reader.fields(node, entry, what="canary.auto", allowed=_AUTO_KEYS)
    if fields is None:
        return INVALID_AUTO
    before, default = len(reader.problems), Auto()
    step = default.step
    if "step" in fields:
        read = reader.whole_number(
            fields["step"],
            entry,
            "canary.auto.step",
            low=1,
            high=100,
            fix="use a whole number of percent from 1 to 100",
        )
        step = read if read is not None else step
    minimum = default.min_requests
    if "min_requests" in fields:
        read = reader.whole_number(
            fields["min_requests"],
            entry,
            "canary.auto.min_requests",
            low=1,
            high=1_000_000,
            fix="use a whole number from 1",
        )
        minimum = read if read is not None else minimum
    every = _every(reader, fields["every"], entry) if "every" in fields else default.every_s
    rates = {
        key: _fraction(reader, fields[key], entry, key, high=1.0 if key != "max_p99_ratio" else 1e6)
        for key in ("max_error_rate", "max_p99_ratio", "min_shadow_match")
        if key in fields
    }
    if len(reader.problems) > before:
        return INVALID_AUTO
    return Auto(
        step=step,
        every_s=every or default.every_s,
        max_error_rate=rates.get("max_error_rate", default.max_error_rate) or 0.0,
        max_p99_ratio=rates.get("max_p99_ratio") or default.max_p99_ratio,
        min_shadow_match=rates.get("min_shadow_match"),
        min_requests=minimum,
    )


def _every(reader: Reader, node: yaml.Node, entry: str) -> float | None:
    value = reader.value(node, entry, "canary.auto.every")
    match = _EVERY.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        if value is not INVALID:
            problem = f"canary.auto.every {describe(value)} is not a duration"
            reader.report(node, entry, problem, _EVERY_FIX)
        return None
    seconds = float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]
    if not 0.1 <= seconds <= 86_400:
        reader.report(node, entry, f"canary.auto.every {value} is out of range", _EVERY_FIX)
        return None
    return seconds


def _fraction(
    reader: Reader, node: yaml.Node, entry: str, key: str, *, high: float
) -> float | None:
    """A number from 0 to `high` (rates: 0.01 is 1%; the p99 ratio: 1.5 is 50% slower)."""
    value = reader.value(node, entry, f"canary.auto.{key}")
    fix = "use a fraction from 0 to 1, like 0.01 for 1%" if high == 1.0 else "use a ratio like 1.5"
    if value is INVALID:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        reader.report(node, entry, f"canary.auto.{key} {describe(value)} is not a number", fix)
        return None
    if not 0 <= value <= high or (key == "max_p99_ratio" and value < 1):
        reader.report(node, entry, f"canary.auto.{key} {value} is out of range", fix)
        return None
    return float(value)


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
