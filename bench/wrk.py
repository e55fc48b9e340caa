"""The load generator: Debian's `wrk` (C, one thread, epoll), so the client costs the
server little CPU. A generated Lua script sets the method, headers and body, and prints
wrk's own summary as one JSON line from its `done` hook.

Two kinds of script: `lua_script` sends one fixed request (wrk never calls Lua per
request); `lua_cycle_script` sends a file of whole requests (method, path, headers, body)
in order from a start position, one per call, and also reports how many requests it sent
(completed plus those cut off in flight at the end), so counters read on the server can be
divided by what the server was sent. (wrk asks for one request before the run, to count how
many the script pipelines, and never sends it: the first sent is the one after `start`, and
`sent` counts one too many.)
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

# The cycling script: each thread reads the requests file in `init` (one request a line,
# its fields separated by tabs: method, path, header name and value pairs, body last) and
# formats every request once; `request` hands out the next one, and `done` (in the main
# Lua state) adds up the threads' counters.
_CYCLE = """
REQUESTS = %(requests)s
START = %(start)d
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function fields(line)
  local found = {}
  for field in string.gmatch(line .. "\\t", "([^\\t]*)\\t") do
    found[#found + 1] = field
  end
  return found
end

function init(args)
  prepared = {}
  for line in io.lines(REQUESTS) do
    local f = fields(line)
    local headers = {}
    for i = 3, #f - 1, 2 do
      headers[f[i]] = f[i + 1]
    end
    local body = f[#f]
    if body == "" then body = nil end
    prepared[#prepared + 1] = wrk.format(f[1], f[2], headers, body)
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


def lua_script(request: HttpRequest) -> str:
    """The wrk script for one request, with the `done` hook that prints the summary."""
    lines = [f"MARK = {lua_string(_MARK)}", f"wrk.method = {lua_string(request.method)}"]
    lines += [
        f"wrk.headers[ {lua_string(name)} ] = {lua_string(value)}"
        for name, value in request.headers.items()
    ]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body.decode())}")
    return "\n".join(lines) + "\n" + _DONE_HOOK


def lua_cycle_script(requests_file: Path, *, start: int = 0) -> str:
    """A script sending the requests of `requests_file` (as `write_requests` wrote them) in
    turn, from line `start` (modulo their number) on."""
    if start < 0:
        raise ValueError(f"start must be 0 or more, got {start}")
    cycle = _CYCLE % {"requests": lua_string(str(requests_file)), "start": start}
    return f"MARK = {lua_string(_MARK)}\n{cycle}"


_SEPARATORS = frozenset("\t\r\n")


def request_line(request: HttpRequest) -> bytes:
    """One request as the cycling script reads it: tab-separated method, path, header names
    and values, body last (empty: none).

    request_line(HttpRequest("GET", "/a", {"X": "1"})) → b"GET\\t/a\\tX\\t1\\t"
    """
    head = [request.method, request.path, *(f for h in request.headers.items() for f in h)]
    if any(_SEPARATORS.intersection(field) for field in head):
        raise ValueError(f"a tab or line break in the head of {request.method} {request.path}")
    body = request.body or b""
    if any(separator.encode() in body for separator in _SEPARATORS):
        raise ValueError("a cycled body must not contain a tab or line break (send compact JSON)")
    return "\t".join(head).encode() + b"\t" + body


def write_requests(path: Path, requests: Sequence[HttpRequest]) -> Path:
    """One request a line, as the cycling script reads them."""
    if not requests:
        raise ValueError("no requests to cycle through")
    path.write_bytes(b"".join(request_line(request) + b"\n" for request in requests))
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
    cycle: Sequence[HttpRequest] | None = None,
    start: int = 0,
) -> WrkSummary:
    """One closed-loop run: `connections` connections for `duration_s`, bounded in time.

    With `cycle`, the requests are those, in turn from `start` on, instead of `request` (one
    wrk thread only, so the order is exactly that); the summary's `sent` says how far it got.
    """
    script = script_dir / "request.lua"
    if cycle is None:
        script.write_text(lua_script(request), encoding="utf-8")
    else:
        if threads != 1:
            raise ValueError("cycling through requests needs exactly one wrk thread")
        listed = write_requests(script_dir / "requests.txt", cycle)
        script.write_text(lua_cycle_script(listed, start=start), encoding="utf-8")
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
