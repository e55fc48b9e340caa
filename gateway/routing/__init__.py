"""The route table of the strangler-fig migration: which backend answers which endpoint.

    routes.yaml ──load_table──▶ RouteTable (frozen) ──.select(RouteRequest)──▶ RouteDecision
                 RouteTableSource (reload.py) re-reads the file and swaps tables
    diff_paths (shadow.py) compares shadow answers; RouteStats counts; ledger.py tells the stage

Everything here is pure (no sockets) except the CLI's `status --gateway`. See docs/routes.md.
"""

from gateway.routing.errors import Problem, RoutesError
from gateway.routing.ledger import CONTRACT_ENDPOINTS, LedgerRow, migration_ledger
from gateway.routing.reload import RouteTableSource
from gateway.routing.select import Caller, RouteDecision, RouteRequest, sticky_bucket
from gateway.routing.shadow import diff_paths
from gateway.routing.stats import RouteStats
from gateway.routing.table import (
    Backend,
    Canary,
    Route,
    RouteTable,
    Shadow,
    default_table,
    load_table,
    parse_table,
)

__all__ = [
    "CONTRACT_ENDPOINTS",
    "Backend",
    "Caller",
    "Canary",
    "LedgerRow",
    "Problem",
    "Route",
    "RouteDecision",
    "RouteRequest",
    "RouteStats",
    "RouteTable",
    "RouteTableSource",
    "RoutesError",
    "Shadow",
    "default_table",
    "diff_paths",
    "load_table",
    "migration_ledger",
    "parse_table",
    "sticky_bucket",
]
