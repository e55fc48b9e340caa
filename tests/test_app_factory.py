"""`create_app` builds everything when called, nothing at import, and any httpx transport
can stand in for the network: here the stub monolith, in this process."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings, SettingsError
from legacy_stub.app import create_app as create_stub
from tests.support.inprocess import NO_CACHE, Gateway, gateway, settings, token
from tests.support.processes import ROOT


def test_importing_the_app_module_builds_nothing() -> None:
    code = "import gateway.app as m; assert not hasattr(m, 'app'); print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_a_query_travels_to_the_stub_through_the_given_transport() -> None:
    gw = gateway()
    response = await gw.gql("web", "{ me { id name } }", token=token("t-1"))
    assert response.status_code == 200
    assert response.json()["data"]["me"]["id"] == "t-1"
    assert await gw.stub_stats() == {"GET /api/travelers": 1}


async def test_the_executors_that_answered_are_counted() -> None:
    gw = gateway(executor="reference")
    response = await gw.gql("web", "{ topDestinations(limit: 2) { code } }")
    assert response.headers["x-gateway-executor"] == "reference"
    routes = await gw.client.get("/_gateway/routes")
    assert routes.json()["executors"] == {"reference": 1}


async def test_the_executor_header_is_for_the_dev_stage_only() -> None:
    gw = gateway(stage="prod", jwt_issuer="https://issuer.test", jwt_audience="app")
    response = await gw.gql("web", "{ topDestinations(limit: 2) { code } }")
    assert response.status_code == 200
    assert "x-gateway-executor" not in response.headers


def test_the_executor_is_a_setting_with_a_clear_refusal() -> None:
    assert Settings.from_env({}).executor == "auto"
    assert Settings.from_env({"GATEWAY_EXECUTOR": "reference"}).executor == "reference"
    with pytest.raises(SettingsError, match="GATEWAY_EXECUTOR='fast' is not one of auto"):
        Settings.from_env({"GATEWAY_EXECUTOR": "fast"})


async def test_executor_reference_from_the_settings_turns_the_planner_off() -> None:
    stub = create_stub()
    for executor in ("auto", "reference"):
        app = create_app(
            settings(executor=executor),
            transport=httpx.ASGITransport(app=stub),
            cache_config=NO_CACHE,
        )
        response = await Gateway(stub=stub, app=app).gql("web", "{ me { id } }", token=token("t-1"))
        assert response.headers["x-gateway-executor"] == (
            "planned" if executor == "auto" else "reference"
        )
