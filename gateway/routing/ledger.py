"""The migration ledger: for every endpoint of the monolith's contract, how far it has moved.

legacy      served by the default (legacy) backend, nothing else going on
shadow      served by legacy, with copies sent to another backend for comparison
canary 25%  25% of its requests are moved to another backend
migrated    its route targets a backend other than the default
"""

from dataclasses import dataclass

from gateway.routing.access_rules import CONTRACT_ACCESS, looser
from gateway.routing.routes import Route
from gateway.routing.table import RouteTable

# Every endpoint of shared/contract/legacy-api.md, in the order it lists them.
CONTRACT_ENDPOINTS: tuple[tuple[str, str], ...] = tuple(
    (method, path) for method, path, _ in CONTRACT_ACCESS
)


@dataclass(frozen=True)
class LedgerRow:
    """`route_key` is "default" when no route names the endpoint; `detail` says the rest."""

    method: str
    path: str
    stage: str
    backend: str
    route_key: str
    detail: str


def migration_ledger(table: RouteTable) -> list[LedgerRow]:
    return [_row(table, method, path) for method, path in CONTRACT_ENDPOINTS]


def unused_routes(table: RouteTable) -> list[Route]:
    """Routes that decide no contract endpoint: often a typo in a path."""
    used = {table.match(method, path) for method, path in CONTRACT_ENDPOINTS}
    return [route for route in table.routes if route not in used]


def _row(table: RouteTable, method: str, path: str) -> LedgerRow:
    route = table.match(method, path)
    if route is None:
        return LedgerRow(method, path, "legacy", table.default, "default", "default")
    return LedgerRow(method, path, _stage(table, route), route.target, route.key, _detail(route))


def _stage(table: RouteTable, route: Route) -> str:
    if route.target != table.default:
        return "migrated"
    if route.canary is not None:
        return f"canary {route.canary.percent}%"
    return "shadow" if route.shadow is not None else "legacy"


def _detail(route: Route) -> str:
    """ "routes[1]; canary 25% → flights (traveler); shadow 100% → flights"."""
    parts = [f"routes[{route.index}]"]
    if route.canary is not None:
        canary = route.canary
        parts.append(f"canary {canary.percent}% → {canary.target} ({canary.sticky})")
    if route.shadow is not None:
        parts.append(f"shadow {route.shadow.percent}% → {route.shadow.target}")
    return "; ".join(parts)


def access_findings(table: RouteTable) -> tuple[list[str], list[str]]:
    """(looser, missing): routes whose `access:` admits callers the contract refuses, and
    routes without one (a contract endpoint then gets the contract's rule; anything else is
    refused). Each line names the route and the fix."""
    too_loose, missing = [], []
    for method, path, contract in CONTRACT_ACCESS:
        route = table.match(method, path)
        if route is not None and route.access is not None and looser(route.access, contract):
            too_loose.append(
                f"{route.label} (line {route.line}): access {route.access} for {method} {path} "
                f"is looser than the contract's {contract}; write access: {contract}"
            )
    for route in table.routes:
        if route.access is None:
            missing.append(
                f"{route.label} (line {route.line}) has no access: contract endpoints get the "
                "contract's rule, anything else is refused; write the rule out"
            )
    return too_loose, missing
