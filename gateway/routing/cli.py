"""The ops commands for the route table; the app runs them as `python -m gateway routes ...`.

    check [FILE]                 validate; "ok: 2 routes, version 5f8433db0cd9" or every problem
    explain METHOD PATH [...]    which backend a request would get, and which rule decided why
    status [--gateway URL ...]   the migration ledger, with live numbers from a gateway, and
                                 the route-store version each gateway serves
    status --ramps               also the self-ramping canaries' shared state, from $REDIS_URL
    push [FILE] --message WHY    check FILE, then publish it to the route store ($ROUTES_STORE)
    push --rollback              publish the version before the latest again, as a new version
    versions                     the store's versions, newest first: who, when, why

Exit codes: 0 fine, 1 the routes file has problems, 2 usage, an unreadable file or an
unreachable gateway or store. FILE defaults to $ROUTES_FILE, else ./routes.yaml. LEGACY_URL and
FLIGHTS_URL default to `make run`'s (http://127.0.0.1:8001 and :8002, or $LEGACY_PORT and
$FLIGHTS_PORT). `status --gateway URL` shows the table that gateway runs when it serves it.
"""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.routing import cli_store
from gateway.routing.cli_files import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    load,
    pair,
    routes_path,
    too_loose,
)
from gateway.routing.errors import RoutesError
from gateway.routing.select import Caller, RouteDecision, RouteRequest
from gateway.routing.status import (
    GatewayView,
    StatusError,
    fetch_gateway,
    fetch_ramps,
    render_canaries,
    render_live,
    render_status,
)
from gateway.routing.store import StoreError
from gateway.routing.table import RouteTable


def main(argv: Sequence[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if not hasattr(args, "run"):
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.run(args))
    except RoutesError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count > 1 else ''} in {exc.source}", file=sys.stderr)
        return EXIT_INVALID
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except (StatusError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _check(args: argparse.Namespace) -> int:
    table = load(args.file, args.env)
    if too_loose(table):
        return EXIT_INVALID
    print(f"ok: {len(table.routes)} routes, version {table.version}")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    table = load(args.file, args.env)
    caller = Caller(
        client_addr=args.client,
        headers={name.lower(): value for name, value in args.header},
        cookies=dict(args.cookie),
        traveler_id=args.traveler,
        role=args.role,
    )
    request = RouteRequest(args.method.upper(), args.path, caller)
    print(_explanation(table, request, table.select(request)))
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    """With --gateway, the gateway's own table unless --file names one to compare with."""
    if not args.gateway:
        table = load(args.file, args.env)
        print(render_status(table))
        _shared_ramps(args, table)
        return EXIT_OK
    views = [fetch_gateway(url) for url in args.gateway]
    code = _ledger(args, views[0])
    for url, view in zip(args.gateway, views, strict=True):  # self-ramping canaries
        if view.canaries:
            print(render_canaries(url, view.canaries))
    # Which route-store version each gateway serves: shown when there is a store or a fleet.
    if len(views) > 1 or any("store" in view.health for view in views):
        for url, view in zip(args.gateway, views, strict=True):
            print(_served(url, view.health))
    _shared_ramps(args, views[0].table)
    return code


def _shared_ramps(args: argparse.Namespace, table: RouteTable | None) -> None:
    """--ramps: the ramps as every gateway shares them in Redis (Lambda has no
    /_gateway/routes to ask)."""
    if not args.ramps:
        return
    url = os.environ.get("REDIS_URL")
    if not url:
        raise StatusError("--ramps reads the gateways' Redis: set REDIS_URL (and REDIS_CLUSTER)")
    cluster = os.environ.get("REDIS_CLUSTER", "0") in ("1", "true", "yes")
    ramps = fetch_ramps(url, cluster=cluster, table=table)
    print(render_canaries("redis", ramps) if ramps else "redis: no self-ramping canary state")


def _served(url: str, health: Mapping[str, Any]) -> str:
    """ "http://gw-1: serves s3://b/k@VID (table 5f8433db0cd9), pushed by ana at …: why" """
    store = health.get("store")
    table = f"table {health.get('version')}"
    if not isinstance(store, dict):
        return f"{url}: serves {health.get('source')} ({table})"
    if not store.get("version_id"):
        return f"{url}: serves its packaged table ({table}), nothing from {store.get('uri')} yet"
    pushed = f"pushed by {store.get('author')} at {store.get('published_at')}"
    vid = store.get("version_id")
    return f"{url}: serves {store.get('uri')}@{vid} ({table}), {pushed}: {store.get('message')}"


def _ledger(args: argparse.Namespace, live: GatewayView) -> int:
    if live.table is not None and args.file is None:
        print(render_status(live.table, health=live.health, stats=live.stats, same_table=True))
        return EXIT_OK
    try:
        table = load(args.file, args.env)
    except (RoutesError, OSError) as exc:
        if args.file is not None:
            raise
        why = _unusable(routes_path(None), exc)
        print(render_live(live.health, live.stats, why_no_ledger=why))
        return EXIT_OK
    print(render_status(table, health=live.health, stats=live.stats))
    return EXIT_OK


def _unusable(path: str, exc: RoutesError | OSError) -> str:
    reason = exc.strerror if isinstance(exc, OSError) else f"`routes check {path}` says why"
    return (
        f"the gateway does not serve its table and {path} cannot be used ({reason}); "
        "pass --file FILE to compare with another file"
    )


def _explanation(table: RouteTable, request: RouteRequest, decision: RouteDecision) -> str:
    backend, route, shadow = decision.backend, decision.route, decision.shadow
    rule = "default (no route matches)"
    if route is not None:
        rule = f"{route.label} ({table.source}:{route.line})"
    copy = "none"
    if shadow is not None:
        ignoring = ", ".join(decision.shadow_ignore) or "nothing"
        copy = f"{shadow.name} ({shadow.url}), ignoring {ignoring}"
    return "\n".join(
        [
            f"{request.method} {request.path} → {backend.name} "
            f"({backend.url}, timeout {backend.timeout_s:g} s)",
            f"rule:   {rule}",
            f"why:    {decision.reason}",
            f"shadow: {copy}",
            f"table:  {table.source} version {table.version}",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gateway routes", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    check = commands.add_parser("check", help="validate a routes file")
    check.add_argument(
        "file", nargs="?", metavar="FILE", help="default: $ROUTES_FILE or routes.yaml"
    )
    check.set_defaults(run=_check)
    explain = commands.add_parser("explain", help="which backend a request would get, and why")
    explain.add_argument("method", metavar="METHOD")
    explain.add_argument("path", metavar="PATH")
    explain.add_argument("--traveler", metavar="ID", help="the traveler id from the token")
    explain.add_argument("--role", help="the token's role (agent may use X-Route-Target)")
    explain.add_argument("--client", metavar="IP", help="the client address")
    explain.add_argument("--header", type=pair, action="append", default=[], metavar="K=V")
    explain.add_argument("--cookie", type=pair, action="append", default=[], metavar="K=V")
    explain.set_defaults(run=_explain)
    status = commands.add_parser("status", help="the migration ledger, endpoint by endpoint")
    status.add_argument(
        "--gateway",
        metavar="URL",
        action="append",
        help="add live numbers from the first, the version each one serves (repeatable)",
    )
    status.add_argument(
        "--ramps",
        action="store_true",
        help="the self-ramping canaries' shared state, from $REDIS_URL (how to see it on Lambda)",
    )
    status.set_defaults(run=_status)
    push = commands.add_parser("push", help="check a routes file and publish it to the store")
    push.add_argument(
        "file", nargs="?", metavar="FILE", help="default: $ROUTES_FILE or routes.yaml"
    )
    push.add_argument("--message", "-m", metavar="WHY", help="why (kept with the version)")
    push.add_argument("--rollback", action="store_true", help="restore the version before")
    push.set_defaults(run=cli_store.push)
    versions = commands.add_parser("versions", help="the store's versions: who, when, why")
    versions.add_argument("--limit", type=int, default=20, metavar="N")
    versions.set_defaults(run=cli_store.versions)
    for command in (push, versions):
        command.add_argument(
            "--store", metavar="URI", help="s3://BUCKET/KEY; default: $ROUTES_STORE"
        )
    for command in (explain, status):
        command.add_argument("--file", metavar="FILE", help="default: $ROUTES_FILE or routes.yaml")
    for command in (check, explain, status, push):
        command.add_argument(
            "--env",
            type=pair,
            action="append",
            default=[],
            metavar="K=V",
            help="set an environment variable the file uses",
        )
    return parser
