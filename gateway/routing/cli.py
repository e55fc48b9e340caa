"""The ops commands for the route table; the app runs them as `python -m gateway routes ...`.

    check [FILE]                 validate; "ok: 2 routes, version 5f8433db0cd9" or every problem
    explain METHOD PATH [...]    which backend a request would get, and which rule decided why
    status [--gateway URL]       the migration ledger, with live numbers from a gateway

Exit codes: 0 fine, 1 the routes file has problems, 2 usage, an unreadable file or an
unreachable gateway. FILE defaults to $ROUTES_FILE, else ./routes.yaml. LEGACY_URL and
FLIGHTS_URL default to `make run`'s (http://127.0.0.1:8001 and :8002, or $LEGACY_PORT and
$FLIGHTS_PORT). `status --gateway URL` shows the table that gateway runs when it serves it.
"""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from gateway.devstack import StackError, backend_urls, stack_ports
from gateway.routing.errors import RoutesError
from gateway.routing.ledger import access_findings
from gateway.routing.select import RouteDecision, RouteRequest
from gateway.routing.status import StatusError, fetch_gateway, render_live, render_status
from gateway.routing.table import RouteTable, load_table

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


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
    except StatusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _check(args: argparse.Namespace) -> int:
    table = _load(args.file, args.env)
    too_loose, missing = access_findings(table)
    for line in missing:
        print(f"warning: {line}", file=sys.stderr)
    for line in too_loose:
        print(f"error: {line}", file=sys.stderr)
    if too_loose:
        count = len(too_loose)
        print(f"{count} route{'s' if count > 1 else ''} looser than the contract", file=sys.stderr)
        return EXIT_INVALID
    print(f"ok: {len(table.routes)} routes, version {table.version}")
    return EXIT_OK


def _explain(args: argparse.Namespace) -> int:
    table = _load(args.file, args.env)
    request = RouteRequest(
        method=args.method.upper(),
        path=args.path,
        traveler_id=args.traveler,
        role=args.role,
        client_addr=args.client,
        headers={name.lower(): value for name, value in args.header},
        cookies=dict(args.cookie),
    )
    print(_explanation(table, request, table.select(request)))
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    """With --gateway, the gateway's own table unless --file names one to compare with."""
    if not args.gateway:
        print(render_status(_load(args.file, args.env)))
        return EXIT_OK
    live = fetch_gateway(args.gateway)
    if live.table is not None and args.file is None:
        print(render_status(live.table, health=live.health, stats=live.stats, same_table=True))
        return EXIT_OK
    try:
        table = _load(args.file, args.env)
    except (RoutesError, OSError) as exc:
        if args.file is not None:
            raise
        why = _unusable(_routes_path(None), exc)
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


def _load(path: str | None, env_pairs: Sequence[tuple[str, str]]) -> RouteTable:
    given: Mapping[str, str] = {**os.environ, **dict(env_pairs)}
    return load_table(_routes_path(path), env={**_local_stack(given), **given})


def _routes_path(path: str | None) -> str:
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


def _pair(text: str) -> tuple[str, str]:
    """ "X-Canary=on" → ("X-Canary", "on")."""
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


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
    explain.add_argument("--header", type=_pair, action="append", default=[], metavar="K=V")
    explain.add_argument("--cookie", type=_pair, action="append", default=[], metavar="K=V")
    explain.set_defaults(run=_explain)
    status = commands.add_parser("status", help="the migration ledger, endpoint by endpoint")
    status.add_argument("--gateway", metavar="URL", help="add live numbers from this gateway")
    status.set_defaults(run=_status)
    for command in (explain, status):
        command.add_argument("--file", metavar="FILE", help="default: $ROUTES_FILE or routes.yaml")
    for command in (check, explain, status):
        command.add_argument(
            "--env",
            type=_pair,
            action="append",
            default=[],
            metavar="K=V",
            help="set an environment variable the file uses",
        )
    return parser
