"""The README's shell blocks, run as written against a real stack (conftest's `stack`).

Every ```sh block is classified in BLOCKS by its first line: run, or skipped with a reason
(shown by `pytest -rs`); a new block fails here until it is classified. A runnable block runs
verbatim in bash, in a fresh shell (no LEGACY_URL, FLIGHTS_URL, ROUTES_FILE), after the
assignments of earlier blocks (`TOKEN=...`), with `make run`'s gateway address replaced by the
stack's, `.venv/bin/python` by this interpreter, and the stack's token secret. Every curl is
recorded and must answer 200 with JSON; a GraphQL answer with data and no errors.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SECRET, Stack

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MAKE_RUN_GATEWAY = "http://127.0.0.1:8000"

RUN = "run"
BLOCKS = {
    "make run": "starts the stack until Ctrl-C (its start-up: tests/test_devstack_startup.py)",
    ".venv/bin/python -m gateway token t-2": RUN,
    "TOKEN=$(.venv/bin/python -m gateway token t-1)": RUN,
    'curl -s http://127.0.0.1:8000/api/trips/trip-40 -H "Authorization: Bearer $TOKEN"': RUN,
    ".venv/bin/python -m gateway routes check": RUN,
    "make package": "packaging takes minutes, offline runs until Ctrl-C, deploy needs AWS "
    "(tests/test_serverless.py packages; tests/test_make_targets.py dry-runs the targets)",
}

# Runs curl as written, keeping each call's arguments and output (+ status) in $CURL_CALLS.
CURL_RECORDER = r"""CURL_N=0
curl() {
  local n=$((CURL_N++))
  printf '%s\n' "$*" > "$CURL_CALLS/$n.args"
  command curl -w '\n%{http_code}' "$@" > "$CURL_CALLS/$n.out"
}"""


@dataclass(frozen=True)
class Block:
    """`before`: the assignments of earlier blocks, as a reader's shell has them."""

    line: int
    text: str
    before: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The first line without its trailing comment: "make run    # creates" → "make run"."""
        return self.text.splitlines()[0].split("  #")[0].strip()

    def assignments(self) -> list[str]:
        """Lines that set a variable later blocks use: "TOKEN=$(...)"."""
        return [line for line in self.text.splitlines() if re.match(r"[A-Z_]+=\S", line)]


def shell_blocks(text: str) -> list[Block]:
    pattern = re.compile(r"^```(?:sh|bash|shell|console)\n(.*?)^```$", re.M | re.S)
    blocks: list[Block] = []
    for match in pattern.finditer(text):
        before = tuple(line for block in blocks for line in block.assignments())
        blocks.append(Block(text.count("\n", 0, match.start()) + 2, match.group(1), before))
    return blocks


def params() -> list[object]:
    found: list[object] = []
    for block in shell_blocks(README.read_text(encoding="utf-8")):
        verdict = BLOCKS.get(block.key, RUN)
        reason = f"README:{block.line} {block.key}: {verdict}"
        marks = [] if verdict == RUN else [pytest.mark.skip(reason=reason)]
        found.append(pytest.param(block, id=block.key, marks=marks))
    return found


def test_every_classified_block_is_in_the_readme() -> None:
    assert {b.key for b in shell_blocks(README.read_text(encoding="utf-8"))} == set(BLOCKS)


@dataclass(frozen=True)
class CurlCall:
    args: str
    status: str
    body: str

    @classmethod
    def read(cls, calls: Path, n: int) -> "CurlCall":
        args = (calls / f"{n}.args").read_text().strip()
        output, _, status = (calls / f"{n}.out").read_bytes().decode().rpartition("\n")
        body = output.split("\r\n\r\n", 1)[1] if " -i" in f" {args}" else output
        return cls(args, status, body)


def check_curl(call: CurlCall) -> None:
    """A 200 with JSON; for GraphQL, data and no errors."""
    assert call.status == "200", call
    answer = json.loads(call.body)
    if "/graphql/" in call.args:
        assert "errors" not in answer and answer["data"], call
    else:
        assert isinstance(answer, dict) and answer, call


def as_run_here(text: str, gateway: str) -> str:
    return text.replace(MAKE_RUN_GATEWAY, gateway).replace(".venv/bin/python", sys.executable)


def fresh_shell_env(calls: Path) -> dict[str, str]:
    unset = ("LEGACY_URL", "FLIGHTS_URL", "ROUTES_FILE", "LEGACY_PORT", "FLIGHTS_PORT")
    env = {k: v for k, v in os.environ.items() if k not in unset and "proxy" not in k.lower()}
    return {**env, "GATEWAY_JWT_SECRET": SECRET, "CURL_CALLS": str(calls)}


@pytest.mark.e2e
@pytest.mark.parametrize("block", params())
def test_readme_block_runs_as_written(block: Block, stack: Stack, tmp_path: Path) -> None:
    assert block.key in BLOCKS, f"README:{block.line}: classify this block in BLOCKS"
    script = "\n".join(["set -euo pipefail", CURL_RECORDER, *block.before, block.text])
    result = subprocess.run(
        ["bash", "-c", as_run_here(script, stack.gateway.url)],
        cwd=REPO,
        env=fresh_shell_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (result.stdout, result.stderr)
    calls = [CurlCall.read(tmp_path, n) for n in range(len(list(tmp_path.glob("*.args"))))]
    assert len(calls) == len(re.findall(r"^curl ", block.text, re.M))
    for call in calls:
        check_curl(call)
