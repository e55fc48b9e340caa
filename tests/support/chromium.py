"""Headless Chromium (Debian's package) driven over the Chrome DevTools protocol, for the
tests of pages the gateway serves (GraphiQL, the dashboard). Chromium can resolve no host
name but loopback: a page that reaches for an outside asset fails instead of fetching it.
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium")


class DevTools:
    """The Chrome DevTools protocol over one websocket: commands in, events recorded."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        command_id = next(self.ids)
        self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == command_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
            self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        return self.send("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def wait_for(self, expression: str, timeout_s: float = 30) -> Any:
        """Polls until the expression is truthy (a page renders in its own time)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if value := self.evaluate(expression):
                return value
            time.sleep(0.2)
        text = self.evaluate("document.body && document.body.innerText")
        raise AssertionError(f"never true: {expression}\npage text: {text!r}")


def open_browser(tmp_path: Path) -> Iterator[DevTools]:
    """A fresh headless Chromium with its page open (the `browser` fixture)."""
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: make system-deps (Debian's package)")
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--window-size=1400,900",
            "--remote-debugging-port=0",
            # No name resolves but loopback: a CDN reference would fail, not reach out.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with connect(_page_socket(profile), max_size=None, open_timeout=10) as socket:
            yield DevTools(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _page_socket(profile: Path) -> str:
    """The page's websocket URL: chromium writes its debugging port into the profile."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
        assert time.monotonic() < deadline, "chromium did not start"
        time.sleep(0.1)
    port = port_file.read_text().splitlines()[0]
    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
    page = next(target for target in targets if target["type"] == "page")
    url: str = page["webSocketDebuggerUrl"]
    return url
