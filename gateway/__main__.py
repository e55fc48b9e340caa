"""Command line: `python -m gateway token t-1 [--role agent]`, `python -m gateway routes ...`,
`python -m gateway schema export|check`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "routes":
        from gateway.routing.cli import main as routes_main

        return routes_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a dev token (HS256, GATEWAY_JWT_SECRET)")
    token.add_argument("traveler_id")
    token.add_argument("--role", choices=("traveler", "agent"), default="traveler")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds (default 12 h)")
    schema = commands.add_parser("schema", help="export or check gateway/schemas/*.graphql")
    schema.add_argument("action", choices=("export", "check"))
    commands.add_parser("routes", help="routes check|explain|status (see docs/routes.md)")
    args = parser.parse_args(argv)
    if args.command == "token":
        return _token(args.traveler_id, args.role, args.ttl)
    return _schema(args.action)


def _token(traveler_id: str, role: str, ttl: int) -> int:
    from gateway.auth import issue_dev_token
    from gateway.config import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not settings.jwt_secret:
        print("error: dev tokens need GATEWAY_JWT_SECRET", file=sys.stderr)
        return 2
    print(issue_dev_token(traveler_id, role=role, secret=settings.jwt_secret, ttl_s=ttl))  # type: ignore[arg-type]
    return 0


def _schema(action: str) -> int:
    from gateway.schemas.export import check_exported, export

    if action == "export":
        for path in export():
            print(f"wrote {path}")
        return 0
    drifted = check_exported()
    for path in drifted:
        print(
            f"{path} differs from the code: run `python -m gateway schema export`", file=sys.stderr
        )
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
