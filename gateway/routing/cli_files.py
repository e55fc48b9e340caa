"""What the route-table commands share: the routes file, its environment, the access check,
the exit codes (gateway/routing/cli.py, cli_store.py)."""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from gateway.devstack import StackError, backend_urls, stack_ports
from gateway.routing.ledger import access_findings
from gateway.routing.table import RouteTable, load_table

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def too_loose(table: RouteTable) -> bool:
    """Print the access findings; True when a route is looser than the contract."""
    looser, missing = access_findings(table)
    for line in missing:
        print(f"warning: {line}", file=sys.stderr)
    for line in looser:
        print(f"error: {line}", file=sys.stderr)
    if looser:
        count = len(looser)
        print(f"{count} route{'s' if count > 1 else ''} looser than the contract", file=sys.stderr)
    return bool(looser)


def load(path: str | None, env_pairs: Sequence[tuple[str, str]]) -> RouteTable:
    return load_table(routes_path(path), env=environment(env_pairs))


def environment(env_pairs: Sequence[tuple[str, str]]) -> Mapping[str, str]:
    given: Mapping[str, str] = {**os.environ, **dict(env_pairs)}
    return {**_local_stack(given), **given}


def routes_path(path: str | None) -> str:
    return path or os.environ.get("ROUTES_FILE", "routes.yaml")


def _local_stack(given: Mapping[str, str]) -> dict[str, str]:
    """LEGACY_URL and FLIGHTS_URL as `make run` sets them, for those the shell does not set
    (a fresh shell); stderr says so. Only here: the gateway itself never guesses a backend."""
    try:
        urls = backend_urls(stack_ports(given))
    except StackError as exc:
        print(f"note: no local defaults for LEGACY_URL, FLIGHTS_URL: {exc}", file=sys.stderr)
        return {}
    unset = {name: url for name, url in urls.items() if name not in given}
    if unset:
        using = ", ".join(f"{name}={url}" for name, url in unset.items())
        print(f"note: not set, so using make run's {using}", file=sys.stderr)
    return unset


def pair(text: str) -> tuple[str, str]:
    """ "X-Canary=on" → ("X-Canary", "on")."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value
