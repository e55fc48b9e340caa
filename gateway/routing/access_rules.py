"""Who may call a route through the REST passthrough: a route's `access:`, as a value.

routes:
  - path: /api/destinations/top
    access: public                       # anyone, with or without a token
  - path: /api/travelers/{id}
    access: {owner: traveler, in: path}  # the {id} segment is the caller's own traveler id
  - path: /api/trips
    methods: [GET]
    access: {owner: trip, in: query}     # every id of ?ids= is a trip of the caller's
  - path: /api/trips
    methods: [POST]
    access: {owner: trip, in: body}      # a new trip: its traveler_id and every booking it names

`signed-in` admits any valid token, `agent` only agents. Owners are `traveler`, `trip` and
`booking` (a flight, hotel stay or car rental on one of the caller's trips). Agents pass every
rule. A route without `access:` gets the contract's rule for the endpoint (CONTRACT_ACCESS),
and a request that no rule covers is refused: the passthrough is never open by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

from gateway.routing.document import Reader
from gateway.routing.templates import PathTemplate, path_parts

Level = Literal["public", "signed-in", "agent"]
OwnerKind = Literal["traveler", "trip", "booking"]
Where = Literal["path", "query", "body"]

LEVELS: tuple[Level, ...] = ("public", "signed-in", "agent")
OWNER_KINDS: tuple[OwnerKind, ...] = ("traveler", "trip", "booking")
WHERE: tuple[Where, ...] = ("path", "query", "body")
IDS_PARAM = "ids"


@dataclass(frozen=True, slots=True)
class AccessRule:
    """`level` for public / signed-in / agent; `owner` and `where` for an owner rule."""

    level: Level | None = None
    owner: OwnerKind | None = None
    where: Where | None = None

    @property
    def public(self) -> bool:
        return self.level == "public"

    @property
    def rank(self) -> int:
        """How strict: public 0 < signed-in 1 < owner 2 < agent 3."""
        if self.owner is not None:
            return 2
        return {"public": 0, "signed-in": 1, "agent": 3}[self.level or "agent"]

    def __str__(self) -> str:
        if self.owner is not None:
            return f"{{owner: {self.owner}, in: {self.where}}}"
        return str(self.level)


PUBLIC = AccessRule(level="public")


def owner(kind: OwnerKind, where: Where) -> AccessRule:
    return AccessRule(owner=kind, where=where)


# The contract's rules (shared/contract/README.md, "REST passthrough"), per endpoint of
# legacy-api.md, in its order.
CONTRACT_ACCESS: tuple[tuple[str, str, AccessRule], ...] = (
    ("GET", "/api/travelers/{id}", owner("traveler", "path")),
    ("GET", "/api/travelers", owner("traveler", "query")),
    ("GET", "/api/travelers/{id}/trips", owner("traveler", "path")),
    ("GET", "/api/trips/{id}", owner("trip", "path")),
    ("GET", "/api/trips", owner("trip", "query")),
    ("POST", "/api/trips", owner("trip", "body")),
    ("POST", "/api/trips/{id}/cancel", owner("trip", "path")),
    ("GET", "/api/flights/{id}", owner("booking", "path")),
    ("GET", "/api/flights", owner("booking", "query")),
    ("GET", "/api/hotel-stays/{id}", owner("booking", "path")),
    ("GET", "/api/hotel-stays", owner("booking", "query")),
    ("GET", "/api/car-rentals/{id}", owner("booking", "path")),
    ("GET", "/api/car-rentals", owner("booking", "query")),
    ("GET", "/api/destinations/top", PUBLIC),
    ("GET", "/api/fx", PUBLIC),
)


def _by_method(
    entries: tuple[tuple[str, str, AccessRule], ...],
) -> dict[str, list[tuple[PathTemplate, AccessRule]]]:
    """The contract's templates per method, in the contract's order (the first match wins)."""
    found: dict[str, list[tuple[PathTemplate, AccessRule]]] = {}
    for method, path, rule in entries:
        found.setdefault(method, []).append((PathTemplate.parse(path), rule))
    return found


_CONTRACT_TEMPLATES = _by_method(CONTRACT_ACCESS)


def contract_rule(method: str, path: str) -> AccessRule | None:
    """The contract's rule for a request, or None when the contract has no such endpoint."""
    applied = applied_rule(None, None, method, path)
    return None if applied is None else applied.rule


def looser(declared: AccessRule, contract: AccessRule) -> bool:
    """Whether `declared` admits a caller that `contract` refuses, or checks another owner."""
    if declared.rank != contract.rank:
        return declared.rank < contract.rank
    return declared != contract


def read_access(
    reader: Reader, node: yaml.Node, entry: str, *, template: str | None
) -> AccessRule | None:
    """`public`, `signed-in`, `agent` or `{owner: KIND, in: path|query|body}`; None if reported."""
    fix = (
        "write access: public, signed-in or agent, or access: {owner: traveler|trip|booking, "
        "in: path|query|body}"
    )
    if isinstance(node, yaml.ScalarNode):
        level = reader.text(node, entry, "access", fix=fix)
        if level is None:
            return None
        if level not in LEVELS:
            reader.report(node, entry, f"access {level!r} is not a level", fix)
            return None
        return AccessRule(level=level)
    fields = reader.fields(node, entry, what="access", allowed=("owner", "in"))
    if fields is None:
        return None
    kind = _choice(reader, fields, node, entry, "owner", OWNER_KINDS, fix)
    where = _choice(reader, fields, node, entry, "in", WHERE, fix)
    if kind is None or where is None:
        return None
    if where == "path" and template is not None and _params(template) != 1:
        count = _params(template)
        problem = f"access in: path needs exactly one {{param}} in the path; {template} has {count}"
        reader.report(
            fields["in"], entry, problem, "use a template like /api/trips/{id}, or in: query"
        )
        return None
    return owner(kind, where)  # type: ignore[arg-type]


def _choice(
    reader: Reader,
    fields: dict[str, yaml.Node],
    node: yaml.Node,
    entry: str,
    key: str,
    choices: tuple[str, ...],
    fix: str,
) -> str | None:
    value_node = reader.require(
        fields, node, entry, key=key, hint=f"{key}: {choices[0]}", field=f"access.{key}"
    )
    if value_node is None:
        return None
    value = reader.text(value_node, entry, f"access.{key}", fix=fix)
    if value is not None and value not in choices:
        reader.report(
            value_node, entry, f"access.{key} {value!r} is not one of {', '.join(choices)}", fix
        )
        return None
    return value


def _params(template: str) -> int:
    return sum(1 for part in PathTemplate.parse(template).segments if part is None)


@dataclass(frozen=True, slots=True)
class AppliedRule:
    """The rule that governs one request, and the template its path ids are read with."""

    rule: AccessRule
    template: PathTemplate

    def path_id(self, path: str) -> str:
        """The one `{param}` of the template in `path`: "/api/trips/trip-1/cancel" → "trip-1"."""
        return self.template.params(path)[0]


def applied_rule(
    declared: AccessRule | None, template: PathTemplate | None, method: str, path: str
) -> AppliedRule | None:
    """The route's own rule, else the contract's for the endpoint, else None (refuse)."""
    if declared is not None and template is not None:
        return AppliedRule(declared, template)
    method = "GET" if method.upper() == "HEAD" else method.upper()
    parts = path_parts(path)
    for contract_template, rule in _CONTRACT_TEMPLATES.get(method, ()):
        if contract_template.matches_parts(parts):
            return AppliedRule(rule, contract_template)
    return None
