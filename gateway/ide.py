"""GraphiQL for the dev stage, served by the gateway itself from the npm packages the project
installs (`make install`/`npm ci` put them in node_modules/), so it works with no network.

The page loads only gateway paths (`/_gateway/ide/<asset>`), never a CDN; its headers editor
is pre-filled with a dev token minted per page view, and only with the well-known dev secret.
The assets are not in the Lambda package (serverless.yml packages `gateway/**` only): the IDE
is a local-development tool (docs/errors.md, "GraphiQL, offline").
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from gateway.config import DEV_JWT_SECRET, Settings
from gateway.identity import issue_dev_token

ASSET_PREFIX = "/_gateway/ide/"
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Served name → file under node_modules/. graphiql 3.x is the last line with a UMD build
# (4.x and 5.x are ES modules meant for a CDN or a bundler); it wants React 18 as globals.
ASSETS = {
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
}
DEV_TRAVELER = "t-1"  # the traveler devstack's tokens are for


def dev_headers(settings: Settings) -> dict[str, str]:
    """The headers to pre-fill: a traveler token, only in dev with the dev secret. Never
    with a real secret, so a misconfigured stage can't hand out working tokens."""
    if not settings.dev or settings.jwt_secret != DEV_JWT_SECRET or settings.jwks_url:
        return {}
    token = issue_dev_token(DEV_TRAVELER, secret=DEV_JWT_SECRET)
    return {"Authorization": f"Bearer {token}"}


def ide_html(endpoint: str, headers: dict[str, str]) -> str:
    """The page for one endpoint, e.g. `ide_html("/graphql/web", {...})`. A `#query=...` in the
    page's URL opens in the editor: a fragment, because a `?query=` would make the GET a
    GraphQL request (answered as JSON, maybe from the answer cache) instead of the page."""
    config = json.dumps({"url": endpoint, "headers": json.dumps(headers, indent=2)})
    # In a <script>, "</" would end the element early; JSON allows the escaped form.
    config = config.replace("</", "<\\/")
    return _PAGE.format(
        title=html.escape(f"GraphiQL · {endpoint}"), prefix=ASSET_PREFIX, config=config
    )


@dataclass(frozen=True, slots=True)
class IdePage:
    """The IDE page of one endpoint, rendered per request so the token is always fresh."""

    endpoint: str
    settings: Settings
    root: Path = NODE_MODULES

    def render(self) -> str:
        missing = [name for name in ASSETS if not (self.root / ASSETS[name]).is_file()]
        if missing:  # e.g. the dev stage on Lambda: its package has no node_modules/
            return _MISSING.format(files=html.escape(", ".join(missing)))
        return ide_html(self.endpoint, dev_headers(self.settings))


def asset_path(name: str, root: Path = NODE_MODULES) -> Path | None:
    """Only the four listed files are served: the name is a key, never a path."""
    relative = ASSETS.get(name)
    return root / relative if relative is not None else None


async def serve_asset(request: Request) -> Response:
    path = asset_path(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not found.", status_code=404)
    if not path.is_file():
        return PlainTextResponse(
            f"{path} is missing: run `npm ci` (make install).", status_code=404
        )
    # Versions are pinned in package-lock.json, so an hour of caching is safe and cheap.
    return FileResponse(path, headers={"cache-control": "public, max-age=3600"})


_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL</title></head>
<body><p>GraphiQL's files are not installed here ({files}): run <code>make install</code>
(npm ci). GraphiQL is for local development (<code>make run</code>); the Lambda package
does not include it (docs/errors.md).</p></body></html>
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{prefix}graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading…</div>
<script src="{prefix}react.production.min.js"></script>
<script src="{prefix}react-dom.production.min.js"></script>
<script src="{prefix}graphiql.min.js"></script>
<script>
const config = {config};
const query = new URLSearchParams(window.location.hash.slice(1)).get("query");
const props = {{
  fetcher: GraphiQL.createFetcher({{ url: config.url }}),
  headers: config.headers,
  shouldPersistHeaders: false,
  defaultEditorToolsVisibility: "headers",
}};
if (query) props.query = query;
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, props),
);
</script>
</body>
</html>
"""
