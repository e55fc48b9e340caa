"""The SDL printed from the code, committed beside it so a diff shows every schema change."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema

HERE = Path(__file__).parent


def printed() -> dict[Path, str]:
    return {
        HERE / "web.graphql": print_schema(build_web_schema()) + "\n",
        HERE / "mobile.graphql": print_schema(build_mobile_schema()) + "\n",
    }


def export() -> list[Path]:
    written = []
    for path, sdl in printed().items():
        path.write_text(sdl, encoding="utf-8")
        written.append(path)
    return written


def check_exported() -> list[Path]:
    """The committed files that differ from what the code prints."""
    return [
        path
        for path, sdl in printed().items()
        if not path.exists() or path.read_text(encoding="utf-8") != sdl
    ]
