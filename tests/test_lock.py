"""The hashed locks in requirements/ match pyproject.toml: every direct dependency is pinned
inside its range, every pin carries sha256 hashes, ruff and mypy are exact, and the Lambda
gets the versions the tests run against. Reads files only: no network, no resolver.
`make lock` rewrites the locks when this fails (docs/deploy.md, "Locked dependencies")."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}$")
# Lambda's python3.12 on x86_64 Linux, as pip sees it when it installs the runtime lock.
LAMBDA = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


@dataclass(frozen=True)
class Pin:
    name: str  # canonical
    version: str
    marker: str  # "" when unconditional
    hashes: int


def parse_lock(text: str) -> list[Pin]:
    """pip's requirements format as uv writes it: `name==version [; marker] \\` followed by
    `--hash=sha256:...` continuation lines; comments and `# via` lines are skipped."""
    pins: list[Pin] = []
    for entry in text.replace("\\\n", " ").splitlines():
        if not entry.strip() or entry.lstrip().startswith("#"):
            continue
        spec, *hashes = entry.split(" --hash=")
        req = Requirement(spec)
        (version,) = [s.version for s in req.specifier if s.operator == "=="] or [""]
        assert version and len(req.specifier) == 1, f"not pinned with ==: {spec}"
        good = sum(bool(HASH.match(f"--hash={h.strip()}")) for h in hashes)
        assert good == len(hashes), f"a malformed hash for {spec}"
        pins.append(Pin(canonicalize_name(req.name), version, str(req.marker or ""), good))
    return pins


def versions(pins: list[Pin]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for pin in pins:
        found.setdefault(pin.name, set()).add(pin.version)
    return found


def pyproject() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        "runtime": [Requirement(r) for r in project["dependencies"]],
        "dev": [Requirement(r) for r in project["optional-dependencies"]["dev"]],
    }


def unmet(direct: list[Requirement], locked: dict[str, set[str]]) -> list[str]:
    """The direct dependencies the lock leaves out or pins outside pyproject's range."""
    return [
        str(req)
        for req in direct
        if not any(
            req.specifier.contains(v, prereleases=True)
            for v in locked.get(canonicalize_name(req.name), set())
        )
    ]


def test_parse_lock_reads_uv_output_and_refuses_unpinned_or_bad_hashes() -> None:
    good = "a==1.0 ; sys_platform == 'win32' \\\n    --hash=sha256:" + "0" * 64 + "\n    # via x\n"
    assert parse_lock(good) == [Pin("a", "1.0", 'sys_platform == "win32"', 1)]
    assert parse_lock("B_c==2 \\\n    --hash=sha256:" + "f" * 64) == [Pin("b-c", "2", "", 1)]
    assert parse_lock("x==1")[0].hashes == 0
    with pytest.raises(AssertionError, match="not pinned"):
        parse_lock("a>=1.0 \\\n    --hash=sha256:" + "0" * 64)
    with pytest.raises(AssertionError, match="malformed"):
        parse_lock("a==1.0 \\\n    --hash=sha256:abc")


def test_unmet_names_what_is_missing_or_out_of_range() -> None:
    direct = [Requirement("httpx>=0.28,<0.29"), Requirement("PyJWT[crypto]>=2.9")]
    assert unmet(direct, {"httpx": {"0.28.1"}, "pyjwt": {"2.15.1"}}) == []
    assert unmet(direct, {"httpx": {"0.29.0"}}) == ["httpx<0.29,>=0.28", "PyJWT[crypto]>=2.9"]


@pytest.mark.parametrize("lock", [RUNTIME, DEV], ids=["runtime", "dev"])
def test_every_pin_is_exact_and_hashed(lock: Path) -> None:
    pins = parse_lock(lock.read_text())
    assert pins
    assert [p.name for p in pins if p.hashes == 0] == []


def test_the_runtime_lock_pins_every_dependency_and_no_dev_tool() -> None:
    direct = pyproject()
    locked = versions(parse_lock(RUNTIME.read_text()))
    assert unmet(direct["runtime"], locked) == [], "run `make lock`"
    assert all(len(v) == 1 for v in locked.values()), "one version each for one platform"
    runtime_names = {canonicalize_name(r.name) for r in direct["runtime"]}
    dev_only = {canonicalize_name(r.name) for r in direct["dev"]} - runtime_names
    # graphql-core is in [dev] for its own tests, and strawberry needs it at runtime too.
    assert (dev_only & set(locked)) <= {"graphql-core"}


def test_the_dev_lock_pins_runtime_and_dev_dependencies() -> None:
    direct = pyproject()
    locked = versions(parse_lock(DEV.read_text()))
    assert unmet(direct["runtime"] + direct["dev"], locked) == [], "run `make lock`"


def test_ruff_and_mypy_are_pinned_exactly_in_pyproject_and_the_lock() -> None:
    dev = {str(canonicalize_name(r.name)): r for r in pyproject()["dev"]}
    locked = versions(parse_lock(DEV.read_text()))
    for tool in ("ruff", "mypy", "uv"):
        (spec,) = dev[tool].specifier
        assert spec.operator == "==", f"{tool} must be exact in pyproject.toml"
        assert locked[tool] == {spec.version}


def test_lambda_gets_the_versions_the_tests_run_against() -> None:
    """Every runtime pin is the dev lock's pin where Lambda runs (dev.txt is universal: it may
    hold a second version for 3.11 or another platform, behind a marker)."""
    dev = parse_lock(DEV.read_text())
    for pin in parse_lock(RUNTIME.read_text()):
        there = {p.version for p in dev if p.name == pin.name and applies(p.marker, LAMBDA)}
        assert there == {pin.version}, pin


def applies(marker: str, environment: dict[str, str]) -> bool:
    return not marker or Marker(marker).evaluate(environment)


def test_applies_evaluates_markers_for_lambda() -> None:
    assert applies("", LAMBDA)
    assert applies('python_full_version >= "3.12"', LAMBDA)
    assert not applies('python_full_version < "3.12"', LAMBDA)
    assert not applies('sys_platform == "win32"', LAMBDA)


def test_the_locks_name_make_lock_as_their_source() -> None:
    for lock in (RUNTIME, DEV):
        assert "#    make lock\n" in lock.read_text()
