"""RouteStats counters and the migration ledger."""

import textwrap

from gateway.routing.ledger import CONTRACT_ENDPOINTS, LedgerRow, migration_ledger, unused_routes
from gateway.routing.stats import RouteStats
from gateway.routing.table import RouteTable, default_table, parse_table


def test_stats_snapshot() -> None:
    stats = RouteStats()
    stats.record("GET /api/flights", "legacy", ok=True)
    stats.record("GET /api/flights", "legacy", ok=False)
    stats.record("GET /api/flights", "flights", ok=True)
    stats.record("default", "legacy", ok=True)
    stats.record_shadow("GET /api/flights", outcome="match")
    stats.record_shadow("GET /api/flights", outcome="mismatch")
    stats.record_shadow("GET /api/flights", outcome="match")
    stats.record_shadow("GET /api/flights/{id}", outcome="match")
    assert stats.snapshot() == {
        "routes": {
            "GET /api/flights": {
                "requests": 3,
                "errors": 1,
                "by_backend": {
                    "flights": {"requests": 1, "errors": 0},
                    "legacy": {"requests": 2, "errors": 1},
                },
                "shadow": {"match": 2, "mismatch": 1, "dropped": 0, "too_large": 0, "cut_off": 0},
            },
            "GET /api/flights/{id}": {
                "requests": 0,
                "errors": 0,
                "by_backend": {},
                "shadow": {"match": 1, "mismatch": 0, "dropped": 0, "too_large": 0, "cut_off": 0},
            },
            "default": {
                "requests": 1,
                "errors": 0,
                "by_backend": {"legacy": {"requests": 1, "errors": 0}},
                "shadow": {"match": 0, "mismatch": 0, "dropped": 0, "too_large": 0, "cut_off": 0},
            },
        }
    }
    assert RouteStats().snapshot() == {"routes": {}}


def test_the_contract_lists_every_endpoint_once() -> None:
    assert len(CONTRACT_ENDPOINTS) == len(set(CONTRACT_ENDPOINTS)) == 15
    assert ("POST", "/api/trips/{id}/cancel") in CONTRACT_ENDPOINTS
    assert ("GET", "/api/travelers/{id}/trips") in CONTRACT_ENDPOINTS


def table() -> RouteTable:
    return parse_table(
        textwrap.dedent("""\
            version: 1
            backends:
              legacy: {url: "http://legacy"}
              flights: {url: "http://flights"}
            default: legacy
            routes:
              - path: /api/flights/{id}
                methods: [GET]
                target: flights
              - path: /api/flights
                methods: [GET]
                target: legacy
                canary: {target: flights, percent: 25, sticky: traveler}
                shadow: {target: flights, ignore: ["$.updated_at"]}
              - path: /api/hotel-stays/**
                target: legacy
                shadow: {target: flights, percent: 10}
              - path: /api/car-rentals/{id}
                target: legacy
              - path: /api/flight/{id}
                target: flights
        """),
        source="routes.yaml",
        env={},
    )


def test_ledger_stages() -> None:
    rows = {(row.method, row.path): row for row in migration_ledger(table())}
    assert list(rows) == list(CONTRACT_ENDPOINTS)
    assert rows["GET", "/api/flights/{id}"] == LedgerRow(
        "GET", "/api/flights/{id}", "migrated", "flights", "GET /api/flights/{id}", "routes[0]"
    )
    assert rows["GET", "/api/flights"] == LedgerRow(
        "GET",
        "/api/flights",
        "canary 25%",
        "legacy",
        "GET /api/flights",
        "routes[1]; canary 25% → flights (traveler); shadow 100% → flights",
    )
    assert rows["GET", "/api/hotel-stays"] == LedgerRow(
        "GET",
        "/api/hotel-stays",
        "shadow",
        "legacy",
        "* /api/hotel-stays/**",
        "routes[2]; shadow 10% → flights",
    )
    assert rows["GET", "/api/car-rentals/{id}"].stage == "legacy"
    assert rows["POST", "/api/trips"] == LedgerRow(
        "POST", "/api/trips", "legacy", "legacy", "default", "default"
    )
    assert {row.stage for row in rows.values()} == {"legacy", "shadow", "canary 25%", "migrated"}


def test_routes_that_decide_no_contract_endpoint() -> None:
    assert [route.path for route in unused_routes(table())] == ["/api/flight/{id}"]


def test_the_default_table_has_everything_on_legacy() -> None:
    rows = migration_ledger(default_table(legacy_url="http://l", flights_url="http://f"))
    assert {row.stage for row in rows} == {"legacy"}
