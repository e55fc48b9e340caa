"""Every make target works as the first command on a fresh clone: whatever runs the venv's
programs first creates and installs the venv. Proved with dry runs (`make -n`), which print
the commands in the order make would run them, against a venv path that does not exist."""

import glob
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
    "lock",
    "offline",
    "package",
    "pytest",
    "run",
    "schema",
    "test",
    "typecheck",
}
NO_VENV = {"bench-deps", "clean", "help", "node_modules", "sls-clean", "system-deps"}
SERVERLESS_TARGETS = ("cfn-lint", "offline", "package")


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
    lines = make("-n", "-f", "mk/serverless.mk", "package", f"PY={tmp_path}/python")
    assert not any("-m venv" in line or "pip install" in line for line in lines)
    assert any(line.startswith(f"{tmp_path}/python -c ") for line in lines)


def test_the_venv_installs_the_hashed_lock_then_the_project_without_deps(tmp_path: Path) -> None:
    venv = f"{tmp_path}/venv"
    lines = make("-n", "install", f"VENV={venv}")
    installs = [line for line in lines if "pip install" in line]
    assert installs == [
        f"{venv}/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt",
        f"{venv}/bin/python -m pip install --quiet --no-deps -e .",
    ]


def python312() -> str | None:
    """A CPython 3.12 that runs (a pyenv shim on PATH may not), as the Makefile looks."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which("python3.12"), *glob.glob(f"{pyenv}/versions/3.12*/bin/python3.12")]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", ""], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def test_the_venv_is_made_with_python312_when_there_is_one(tmp_path: Path) -> None:
    wanted = python312()
    if wanted is None:
        pytest.skip("no runnable python3.12 on this machine")
    venv = f"{tmp_path}/venv"
    (made,) = [line for line in make("-n", "install", f"VENV={venv}") if "-m venv" in line]
    python = made.split(" || ")[1].split(" -m venv")[0]
    version = subprocess.run([python, "-V"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("Python 3.12"), made


def test_an_older_python_is_refused_naming_the_version_needed(tmp_path: Path) -> None:
    old = tmp_path / "python"
    old.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.10.13"; exit 1\n')
    old.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(
        ["make", "--no-print-directory", "install", f"VENV={tmp_path}/venv", f"PYTHON={old}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "Python 3.12 is needed" in done.stderr and "Python 3.10.13" in done.stderr
    assert not (tmp_path / "venv").exists()


def test_package_on_a_fresh_clone(tmp_path: Path) -> None:
    """The clone has no .venv, no node_modules and no .requirements; this checkout's make
    files are copied over it, since they may not be committed yet."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=60)
    shutil.copy2(REPO / "Makefile", clone / "Makefile")
    shutil.copytree(REPO / "mk", clone / "mk", dirs_exist_ok=True)
    shutil.copytree(REPO / "requirements", clone / "requirements", dirs_exist_ok=True)
    shutil.copy2(REPO / "pyproject.toml", clone / "pyproject.toml")
    lines = make("-n", "package", cwd=clone)
    assert_created_before_use(lines, ".venv")
    assert "npm ci --no-audit --no-fund" in lines
