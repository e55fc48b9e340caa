"""The load generator: Debian's `wrk` (C, one thread, epoll), so the client costs the
server little CPU. A generated Lua script sets the method, headers and body, and prints
wrk's own summary as one JSON line from its `done` hook.

Two kinds of script: `lua_script` sends one fixed request (wrk never calls Lua per
request); `lua_cycle_script` sends a file of bodies in order from a start position, one per
request, and also reports how many requests it sent (completed plus those cut off in flight
at the end), so counters read on the server can be divided by what the server was sent.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.request import HttpRequest

INSTALL_HINT = "apt-get install -y wrk   (Debian's package; `make bench` needs it)"
_MARK = "BENCH_JSON "

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\\n',
    MARK, summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""

# The cycling script: each thread reads the bodies file in `init`, `request` hands out the
# next prepared request, and `done` (in the main Lua state) adds up the threads' counters.
_CYCLE = """
BODIES = %(bodies)s
START = %(start)d
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for line in io.lines(BODIES) do
    prepared[#prepared + 1] = wrk.format(nil, nil, nil, line)
  end
  count = #prepared
  sent = 0
end

function request()
  local next_request = prepared[(START + sent) %% count + 1]
  sent = sent + 1
  return next_request
end

done = function(summary, latency, requests)
  local e = summary.errors
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
  end
  io.write(string.format(
    '%%s{"requests":%%d,"duration_us":%%d,"bytes":%%d,"sent":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d,"mean":%%.1f}}\\n',
    MARK, summary.requests, summary.duration, summary.bytes, total,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no summary; the message says which."""


@dataclass(frozen=True)
class WrkSummary:
    requests: int
    duration_s: float
    bytes: int
    errors: dict[str, int]
    p50_s: float
    p90_s: float
    p99_s: float
    max_s: float
    sent: int | None = None  # requests the cycling script handed to wrk (None: static)

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def lua_string(text: str) -> str:
    """A Lua long-bracket literal holding `text` verbatim, whatever it contains.

    lua_string('a]]b') → '[=[a]]b]=]'
    """
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    equals = "=" * level
    # A long bracket drops a newline right after the opening bracket: add one to keep ours.
    prefix = "\n" if text.startswith("\n") else ""
    return f"[{equals}[{prefix}{text}]{equals}]"


def _request_lines(request: HttpRequest) -> list[str]:
    lines = [f"MARK = {lua_string(_MARK)}", f"wrk.method = {lua_string(request.method)}"]
    lines += [
        f"wrk.headers[ {lua_string(name)} ] = {lua_string(value)}"
        for name, value in request.headers.items()
    ]
    return lines


def lua_script(request: HttpRequest) -> str:
    """The wrk script for one request, with the `done` hook that prints the summary."""
    lines = _request_lines(request)
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body.decode())}")
    return "\n".join(lines) + "\n" + _DONE_HOOK


def lua_cycle_script(request: HttpRequest, bodies_file: Path, *, start: int = 0) -> str:
    """A script sending `request`'s method, path and headers with the bodies of
    `bodies_file` (one per line) in turn, from line `start` (modulo their number) on."""
    if start < 0:
        raise ValueError(f"start must be 0 or more, got {start}")
    cycle = _CYCLE % {"bodies": lua_string(str(bodies_file)), "start": start}
    return "\n".join(_request_lines(request)) + "\n" + cycle


def write_bodies(path: Path, bodies: Sequence[bytes]) -> Path:
    """One body a line, as the cycling script reads them (so none may hold a newline)."""
    if not bodies:
        raise ValueError("no bodies to cycle through")
    if any(b"\n" in body or b"\r" in body for body in bodies):
        raise ValueError("a cycled body must not contain a line break (send compact JSON)")
    path.write_bytes(b"\n".join(bodies) + b"\n")
    return path


def parse_summary(stdout: str, stderr: str = "") -> WrkSummary:
    """Read the JSON line the `done` hook printed; WrkError when there is none."""
    for line in stdout.splitlines():
        if line.startswith(_MARK):
            return _summary(json.loads(line[len(_MARK) :]))
    raise WrkError(f"wrk printed no summary line: {stderr.strip()[-500:]}\n{stdout[-1000:]}")


def _summary(raw: dict[str, Any]) -> WrkSummary:
    latency = raw["latency_us"]
    return WrkSummary(
        requests=int(raw["requests"]),
        duration_s=raw["duration_us"] / 1e6,
        bytes=int(raw["bytes"]),
        errors={key: int(value) for key, value in raw["errors"].items()},
        p50_s=latency["p50"] / 1e6,
        p90_s=latency["p90"] / 1e6,
        p99_s=latency["p99"] / 1e6,
        max_s=latency["max"] / 1e6,
        sent=int(raw["sent"]) if "sent" in raw else None,
    )


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError(f"wrk is not installed: {INSTALL_HINT}")
    return path


def wrk_version() -> str:
    run = subprocess.run([wrk_path(), "--version"], capture_output=True, text=True, timeout=10)
    return (run.stdout or run.stderr).splitlines()[0].split(" Copyright")[0].strip()


def run_wrk(
    url: str,
    request: HttpRequest,
    *,
    script_dir: Path,
    connections: int,
    duration_s: float,
    threads: int = 1,
    bodies: Sequence[bytes] | None = None,
    start: int = 0,
) -> WrkSummary:
    """One closed-loop run: `connections` connections for `duration_s`, bounded in time.

    With `bodies`, the requests carry them in turn from `start` on (one wrk thread only,
    so the order is exactly that); the summary's `sent` says how far it got."""
    script = script_dir / "request.lua"
    if bodies is None:
        script.write_text(lua_script(request), encoding="utf-8")
    else:
        if threads != 1:
            raise ValueError("cycling through bodies needs exactly one wrk thread")
        listed = write_bodies(script_dir / "bodies.txt", bodies)
        script.write_text(lua_cycle_script(request, listed, start=start), encoding="utf-8")
    command = [
        wrk_path(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        "--timeout=5s",
        f"--script={script}",
        url + request.path,
    ]
    # subprocess.run kills wrk on any exception (Ctrl-C included) before re-raising.
    run = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 30)
    if run.returncode != 0:
        raise WrkError(f"wrk exited with {run.returncode}: {run.stderr.strip()}")
    return parse_summary(run.stdout, run.stderr)
