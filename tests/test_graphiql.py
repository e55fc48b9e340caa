"""GraphiQL, offline: a real gateway serves the page and its files from node_modules/, and
headless Chromium (Debian's package) loads it, runs a query with the pre-filled dev token
and shows the stub's data. Chromium can resolve no host name but loopback, and every request
it makes is recorded: all must go to the gateway. The screenshot stays in test-artifacts/.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from gateway.config import Settings
from gateway.ide import ASSETS, NODE_MODULES, IdePage, asset_path, dev_headers, ide_html
from tests.conftest import gateway_env
from tests.support.chromium import ARTIFACTS, DevTools
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes

ROOT = Path(__file__).resolve().parent.parent
QUERY = '{ trips(travelerId: "t-1", first: 2) { items { id title } } }'

# The pure parts: what the page contains and who gets a token.


def test_page_loads_only_gateway_paths() -> None:
    page = ide_html("/graphql/web", {"Authorization": "Bearer abc"})
    sources = [part.split('"')[1] for part in page.split(" src=")[1:]]
    sources += [part.split('"')[1] for part in page.split(" href=")[1:]]
    assert sorted(sources) == sorted(f"/_gateway/ide/{name}" for name in ASSETS)
    assert "https://" not in page and "http://" not in page
    assert '\\"Authorization\\": \\"Bearer abc\\"' in page


def test_a_closing_tag_in_the_config_cannot_end_the_script() -> None:
    page = ide_html("/graphql/web", {"X": "</script><script>alert(1)</script>"})
    assert "</script><script>alert(1)" not in page


def test_dev_token_only_in_dev_with_the_dev_secret() -> None:
    headers = dev_headers(Settings(stage="dev"))
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Bearer" and token.count(".") == 2
    own_secret = "a-secret-of-our-own-0123456789abcdef0123456789"
    assert dev_headers(Settings(stage="dev", jwt_secret=own_secret)) == {}


def test_without_the_files_the_page_says_how_to_get_them(tmp_path: Path) -> None:
    page = IdePage("/graphql/web", Settings(stage="dev"), root=tmp_path).render()
    assert "make install" in page and "<script" not in page
    assert "graphiql.min.js" in page


def test_only_listed_assets_resolve() -> None:
    assert asset_path("graphiql.min.js") == NODE_MODULES / "graphiql/graphiql.min.js"
    assert asset_path("../package.json") is None
    assert asset_path("graphiql.min.js.map") is None


def test_the_assets_are_installed() -> None:
    """`npm ci` (make install's node_modules target) put them there, as package-lock pins."""
    missing = [name for name in ASSETS if not (path := asset_path(name)) or not path.is_file()]
    assert missing == []


# The browser.


@pytest.fixture(scope="module")
def legacy() -> Iterator[Service]:
    stub = start_uvicorn("legacy_stub.app:app")
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture(scope="module")
def dev_gateway(tmp_path_factory: pytest.TempPathFactory, legacy: Service) -> Iterator[Service]:
    """A dev gateway with the committed dev secret: the one setup where the IDE has a token."""
    routes = write_routes(tmp_path_factory.mktemp("routes") / "routes.yaml")
    env = gateway_env(legacy.url, routes, GATEWAY_JWT_SECRET="")
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        yield gateway
    finally:
        gateway.stop()


def test_assets_and_page_over_http(dev_gateway: Service) -> None:
    page = httpx.get(f"{dev_gateway.url}/graphql/web", headers={"accept": "text/html"})
    assert page.status_code == 200 and "/_gateway/ide/graphiql.min.js" in page.text
    script = httpx.get(f"{dev_gateway.url}/_gateway/ide/graphiql.min.js")
    assert script.status_code == 200
    assert script.content == (NODE_MODULES / "graphiql/graphiql.min.js").read_bytes()
    assert httpx.get(f"{dev_gateway.url}/_gateway/ide/..%2Fpackage.json").status_code == 404


def test_prod_serves_no_ide(tmp_path: Path) -> None:
    routes = write_routes(tmp_path / "routes.yaml")
    env = gateway_env("http://127.0.0.1:9", routes, GATEWAY_STAGE="prod")
    env |= {"GATEWAY_JWT_ISSUER": "https://issuer.test", "GATEWAY_JWT_AUDIENCE": "bff"}
    with_prod = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        page = httpx.get(f"{with_prod.url}/graphql/web", headers={"accept": "text/html"})
        assert "GraphiQL" not in page.text
        assert httpx.get(f"{with_prod.url}/_gateway/ide/graphiql.min.js").status_code == 404
    finally:
        with_prod.stop()


def test_graphiql_runs_a_query_offline(
    legacy: Service, dev_gateway: Service, browser: DevTools
) -> None:
    browser.send("Network.enable")
    browser.send("Page.enable")
    browser.send("Page.navigate", url=f"{dev_gateway.url}/graphql/web#query={quote(QUERY)}")
    browser.wait_for("document.querySelector('.graphiql-execute-button') !== null")
    headers_text = browser.wait_for(
        "[...document.querySelectorAll('.graphiql-editor-tool .CodeMirror-code')]"
        ".map(e => e.innerText).join('\\n')"
    )
    assert "Authorization" in headers_text and "Bearer" in headers_text
    browser.evaluate("document.querySelector('.graphiql-execute-button').click()")
    result = browser.wait_for(
        "(t => t.includes('trip-') && t)(document.querySelector('.result-window')?.innerText || '')"
    )
    # The witness: t-1's first trip as the stub itself serves it.
    expected = httpx.get(f"{legacy.url}/api/travelers/t-1/trips", timeout=10).json()["items"][0]
    assert expected["id"] in result and expected["title"] in result
    assert "UNAUTHENTICATED" not in result and "errors" not in result
    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.send("Page.captureScreenshot", format="png")
    (ARTIFACTS / "graphiql.png").write_bytes(base64.b64decode(shot["data"]))
    requested = {
        event["params"]["request"]["url"]
        for event in browser.events
        if event.get("method") == "Network.requestWillBeSent"
    }
    requested = {url for url in requested if not url.startswith("data:")}  # inlined fonts
    assert requested and all(url.startswith(dev_gateway.url + "/") for url in requested), requested
