"""A route's `access:` in routes.yaml: read, checked, and compared with the contract."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.routing.access_rules import AccessRule, owner
from gateway.routing.cli import main
from gateway.routing.errors import RoutesError
from gateway.routing.ledger import CONTRACT_ENDPOINTS, access_findings
from gateway.routing.table import RouteTable, load_table, parse_table

REPO = Path(__file__).resolve().parent.parent
ENV = {"LEGACY_URL": "http://legacy:8000", "FLIGHTS_URL": "http://flights:8001"}
HEAD = """version: 1
backends:
  legacy: {url: "http://legacy", timeout_ms: 1000}
default: legacy
routes:
"""


def table(routes: str) -> RouteTable:
    return parse_table(HEAD + textwrap.dedent(routes), source="t.yaml", env={})


def test_every_form_of_access_is_read() -> None:
    routes = table(
        """\
        - path: /api/fx
          target: legacy
          access: public
        - path: /api/me
          target: legacy
          access: signed-in
        - path: /api/admin/**
          target: legacy
          access: agent
        - path: /api/trips/{id}
          target: legacy
          access: {owner: trip, in: path}
        - path: /api/trips
          target: legacy
          access: {owner: trip, in: body}
        - path: /api/stays
          target: legacy
        """
    ).routes
    assert [route.access for route in routes] == [
        AccessRule(level="public"),
        AccessRule(level="signed-in"),
        AccessRule(level="agent"),
        owner("trip", "path"),
        owner("trip", "body"),
        None,
    ]


@pytest.mark.parametrize(
    ("access", "problem"),
    [
        ("open", "t.yaml:8: routes[0] (/api/trips/{id}): access 'open' is not a level"),
        (
            "{owner: flight, in: path}",
            "access.owner 'flight' is not one of traveler, trip, booking",
        ),
        ("{owner: trip, in: header}", "access.in 'header' is not one of path, query, body"),
        ("{owner: trip}", "access.in is missing"),
        ("{owner: trip, in: path, role: agent}", "unknown key 'role' in access"),
        ("[public]", "access must be a mapping"),
    ],
)
def test_a_bad_access_names_the_line_the_entry_and_the_fix(access: str, problem: str) -> None:
    with pytest.raises(RoutesError) as error:
        table(f"- path: /api/trips/{{id}}\n  target: legacy\n  access: {access}\n")
    assert problem in str(error.value)
    assert "; " in str(error.value)  # and a fix after it


def test_in_path_needs_exactly_one_param() -> None:
    with pytest.raises(RoutesError) as error:
        table("- path: /api/trips\n  target: legacy\n  access: {owner: trip, in: path}\n")
    assert "access in: path needs exactly one {param} in the path; /api/trips has 0" in str(
        error.value
    )


def test_the_committed_routes_file_declares_the_contracts_rule_for_every_endpoint() -> None:
    committed = load_table(REPO / "routes.yaml", env=ENV)
    assert access_findings(committed) == ([], [])
    for method, path in CONTRACT_ENDPOINTS:
        route = committed.match(method, path)
        assert route is not None and route.access is not None, (method, path)


def test_findings_name_looser_and_missing_access() -> None:
    found = table(
        """\
        - path: /api/trips/{id}
          methods: [GET]
          target: legacy
          access: signed-in
        - path: /api/fx
          target: legacy
        - path: /api/flights/**
          target: legacy
          access: agent
        """
    )
    too_loose, missing = access_findings(found)
    assert too_loose == [
        "routes[0] GET /api/trips/{id} (line 6): access signed-in for GET /api/trips/{id} is "
        "looser than the contract's {owner: trip, in: path}; write access: {owner: trip, in: path}"
    ]
    assert missing == [
        "routes[1] * /api/fx (line 10) has no access: contract endpoints get the contract's "
        "rule, anything else is refused; write the rule out"
    ]


def test_routes_check_fails_on_looser_access_and_warns_on_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loose = tmp_path / "loose.yaml"
    loose.write_text(
        HEAD + "  - path: /api/travelers/{id}\n    target: legacy\n    access: public\n"
    )
    assert main(["check", str(loose)]) == 1
    err = capsys.readouterr().err
    assert "access public for GET /api/travelers/{id} is looser than the contract's" in err
    assert "1 route looser than the contract" in err
    missing = tmp_path / "missing.yaml"
    missing.write_text(HEAD + "  - path: /api/fx\n    target: legacy\n")
    assert main(["check", str(missing)]) == 0
    out = capsys.readouterr()
    assert "warning: routes[0] * /api/fx (line 6) has no access" in out.err
    assert out.out.startswith("ok: 1 routes")
