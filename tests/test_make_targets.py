"""Every make target works as the first command on a fresh clone: whatever runs the venv's
programs first creates and installs the venv. Proved with dry runs (`make -n`), which print
the commands in the order make would run them, against a venv path that does not exist."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Targets that run something from the venv. A new target lands in exactly one of the two sets.
NEEDS_VENV = {
    "bench",
    "cfn-lint",
    "install",
    "lint",
    "offline",
    "package",
    "pytest",
    "run",
    "schema",
    "sls-requirements",
    "test",
    "typecheck",
}
NO_VENV = {"bench-deps", "clean", "help", "node_modules", "sls-clean", "system-deps"}
SERVERLESS_TARGETS = ("cfn-lint", "offline", "package", "sls-requirements")


def make(*args: str, cwd: Path = REPO, check: bool = True) -> list[str]:
    # Not the caller's make flags (pytest may run under `make test`).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )
    return result.stdout.splitlines()


def targets(*args: str) -> set[str]:
    """The targets make knows, from its database (`make -pnq`), without files and specials."""
    found, previous = set(), ""
    for line in make("-pnq", *args, check=False):  # -q: exit 1, the default goal is due
        match = re.match(r"([A-Za-z0-9_.-]+):(?!=)", line)
        if match and not previous.startswith("# Not a target") and line[0] != ".":
            found.add(match.group(1))
        previous = line
    return found


def venv_order(lines: list[str], venv: str) -> tuple[int | None, int | None]:
    """(line creating the venv, first other line running something from it); None when absent.

    ["test -x V/bin/python || python3 -m venv V", "V/bin/python -m pip ..."] → (0, 1)
    """
    creates = [f"-m venv {venv}" in line for line in lines]
    created = next((i for i, yes in enumerate(creates) if yes), None)
    used = (i for i, line in enumerate(lines) if f"{venv}/bin/" in line and not creates[i])
    return created, next(used, None)


def assert_created_before_use(lines: list[str], venv: str) -> None:
    created, used = venv_order(lines, venv)
    assert used is not None, "\n".join(lines)
    assert created is not None and created < used, "\n".join(lines)


def test_every_target_is_classified(tmp_path: Path) -> None:
    assert targets(f"VENV={tmp_path}/venv") == NEEDS_VENV | NO_VENV


@pytest.mark.parametrize("target", sorted(NEEDS_VENV | NO_VENV))
def test_a_target_creates_the_venv_before_using_it(target: str, tmp_path: Path) -> None:
    venv = f"{tmp_path}/venv"
    lines = make("-n", target, f"VENV={venv}")
    if target in NO_VENV:
        assert venv_order(lines, venv)[1] is None, "\n".join(lines)
    else:
        assert_created_before_use(lines, venv)


@pytest.mark.parametrize("target", SERVERLESS_TARGETS)
def test_serverless_mk_alone_creates_the_venv_through_the_makefile(
    target: str, tmp_path: Path
) -> None:
    venv = f"{tmp_path}/venv"
    lines = make("-n", "-f", "mk/serverless.mk", target, f"VENV={venv}")
    assert_created_before_use(lines, venv)
    delegated = lines.index(f"make --no-print-directory -f Makefile install VENV={venv}")
    created, _ = venv_order(lines, venv)
    assert created is not None and delegated < created


def test_a_python_given_on_the_command_line_makes_no_venv(tmp_path: Path) -> None:
    lines = make("-n", "-f", "mk/serverless.mk", "sls-requirements", f"PY={tmp_path}/python")
    assert not any("-m venv" in line or "pip install" in line for line in lines)
    assert any(line.startswith(f"{tmp_path}/python -c ") for line in lines)


def test_package_on_a_fresh_clone(tmp_path: Path) -> None:
    """The clone has no .venv, no node_modules and no .requirements; this checkout's make
    files are copied over it, since they may not be committed yet."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=60)
    shutil.copy2(REPO / "Makefile", clone / "Makefile")
    shutil.copytree(REPO / "mk", clone / "mk", dirs_exist_ok=True)
    lines = make("-n", "package", cwd=clone)
    assert_created_before_use(lines, ".venv")
    assert "npm ci --no-audit --no-fund" in lines
