"""serverless.yml, proven offline: the npm pins, the Lambda requirements, the packaged
templates and zip (both stages, cfn-lint, no network), the zip itself answering under
Python 3.12, and `serverless offline` answering like uvicorn.

Packaging runs `npx serverless package --package <tmp>` once per stage for the module, with
no AWS credentials (AWS_* removed, a throw-away HOME) and telemetry off. docs/deploy.md.
"""

from __future__ import annotations

import fnmatch
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from gateway.identity import issue_dev_token
from tests.support.processes import GATEWAY_FACTORY, Service, free_port, start_uvicorn, wait_ready

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements" / "runtime.txt"  # the runtime lock (`make lock`)
SECRET = "sls-e2e-secret-0123456789abcdef0123456789abcdef"
REQUIRED_PROD_PARAMS = {
    "legacyUrl": "https://legacy.internal.example",
    "flightsUrl": "https://flights.internal.example",
    "jwtSecretId": "bff-gateway/prod/jwt",
    "jwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example",
    "jwtAudience": "example-app-client",
    "subnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
    "securityGroupIds": "sg-0123456789abcdef0",
}
# Where serverless.yml uses each required prod param: what osls's error names.
PROD_PARAM_USES = {
    "legacyUrl": "provider.environment.LEGACY_URL",
    "flightsUrl": "provider.environment.FLIGHTS_URL",
    "jwtSecretId": "params.prod.jwtSecret",
    "jwtIssuer": "provider.environment.GATEWAY_JWT_ISSUER",
    "jwtAudience": "provider.environment.GATEWAY_JWT_AUDIENCE",
    "subnetIds": "custom.vpc.prod.subnetIds",
    "securityGroupIds": "custom.vpc.prod.securityGroupIds",
}
PROD_PARAMS = {
    **REQUIRED_PROD_PARAMS,
    "jwksUrl": "https://idp.example/.well-known/jwks.json",
    "provisionedConcurrency": "2",
}
HTTP_ROUTES = {
    "POST /graphql/web",
    "GET /graphql/web",
    "POST /graphql/mobile",
    "GET /graphql/mobile",
    "ANY /api/{proxy+}",
    "GET /healthz",
}
DEV_ONLY = {  # never in the Lambda package
    "uvicorn",
    "uvloop",
    "httptools",
    "watchfiles",
    "websockets",
    "pytest",
    "pytest-asyncio",
    "ruff",
    "mypy",
    "cfn-lint",
    "types-pyyaml",
    "types-cachetools",
}
# 30 MiB (31.46 MB); the zip is about 29.8 MiB (31.2 MB). cryptography (PyJWT[crypto], RS256
# via JWKS) is 11.6 MB of it and pydantic-core 5.0 MB, each a single stripped .so.
UNZIPPED_LIMIT_BYTES = 30 * 2**20
HTTP_API_TIMEOUT_S = 30


# --- processes ---------------------------------------------------------------------------


def sls_env(home: Path, **extra: str) -> dict[str, str]:
    """No AWS credentials or config reachable, no telemetry, a HOME of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLS_"))}
    return {
        **env,
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
        "NPM_CONFIG_UPDATE_NOTIFIER": "false",
        "SLS_REQUIREMENTS_PYTHON": sys.executable,
        "SLS_REQUIREMENTS_CACHE": str(ROOT / ".requirements" / "cache"),
        **extra,
    }


def run(
    command: list[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 240,
) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def serverless(*args: str) -> list[str]:
    return ["npx", "--no-install", "serverless", *args]


def param_args(params: Mapping[str, str]) -> list[str]:
    return [f"--param={key}={value}" for key, value in params.items()]


@pytest.fixture(scope="module")
def sls_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sls-home")


@pytest.fixture(scope="module")
def tooling() -> None:
    """`npm ci` (when package-lock.json is newer)."""
    run(["make", "-s", "-f", "mk/serverless.mk", "node_modules", f"PY={sys.executable}"])


@dataclass(frozen=True)
class Package:
    stage: str
    path: Path
    seconds: float
    output: str

    @property
    def template(self) -> dict[str, Any]:
        text = (self.path / "cloudformation-template-update-stack.json").read_text()
        loaded: dict[str, Any] = json.loads(text)
        return loaded

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    @property
    def zip(self) -> Path:
        return self.path / "bff-gateway.zip"

    def of_type(self, kind: str) -> dict[str, Any]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}


def service_copy(into: Path) -> Path:
    """The checkout as a fresh clone has it (requirements/ included), in a directory
    of its own: serverless-python-requirements injects from `<service>/.serverless/requirements`,
    a symlink it never refreshes when packaging with --package, and two packagings in one
    checkout (a developer's `make package`, a test run) would share it."""
    into.mkdir(parents=True, exist_ok=True)
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    (into / "node_modules").symlink_to(ROOT / "node_modules")
    return into


def package(stage: str, into: Path, home: Path, params: Mapping[str, str] | None = None) -> Package:
    service = service_copy(into)
    started = time.monotonic()
    output = run(
        serverless("package", "--stage", stage, *param_args(params or {})),
        env=sls_env(home),
        cwd=service,
    )
    return Package(stage, service / ".serverless", time.monotonic() - started, output)


@pytest.fixture(scope="module")
def packages(
    tooling: None, sls_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Package]:
    out = tmp_path_factory.mktemp("sls-package")
    built = {
        "dev": package("dev", out / "dev", sls_home),
        "prod": package("prod", out / "prod", sls_home, PROD_PARAMS),
    }
    for p in built.values():
        print(f"serverless package --stage {p.stage}: {p.seconds:.1f} s")
    return built


def function(p: Package, name: str) -> dict[str, Any]:
    props: dict[str, Any] = p.resources[name]["Properties"]
    return props


def get_att(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


# --- npm and pip pins (fast) -------------------------------------------------------------


def test_npm_tooling_is_pinned_exactly_and_locked() -> None:
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pins = manifest["devDependencies"]

    # GraphiQL's browser build (gateway/ide.py serves it in dev) and the serverless tooling.
    assert set(pins) == {
        "serverless",
        "serverless-offline",
        "serverless-python-requirements",
        "graphiql",
        "react",
        "react-dom",
    }
    # osls, v3's maintained fork (it knows python3.12), under v3's name: the plugins' peer
    # dependency on serverless ^3 resolves to it, and `npx serverless` runs it.
    fork, _, fork_version = pins["serverless"].removeprefix("npm:").partition("@")
    assert fork == "osls"
    versions = {**pins, "serverless": fork_version}
    assert all(v[0].isdigit() for v in versions.values()), "exact versions, no ^ or ~"
    assert fork_version.startswith("3."), "v4 needs a login and credentials to package"
    assert pins["serverless-offline"].startswith("13."), "v14 needs serverless v4"
    locked = {name: lock["packages"][f"node_modules/{name}"]["version"] for name in pins}
    assert locked == versions
    assert lock["packages"]["node_modules/serverless"]["name"] == "osls"
    assert lock["packages"][""]["devDependencies"] == pins


def test_lambda_requirements_are_the_runtime_lock_without_dev_deps() -> None:
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    assert ROOT / config["custom"]["pythonRequirements"]["fileName"] == REQUIREMENTS
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # One requirement a line once pip's continuations (the hashes) are joined.
    joined = REQUIREMENTS.read_text().replace("\\\n", " ").splitlines()
    lines = [ln.split(" --hash")[0] for ln in joined if ln and not ln.startswith(("#", " "))]
    pinned = {canonicalize_name(Requirement(ln).name): Requirement(ln) for ln in lines}

    for dependency in map(Requirement, pyproject["dependencies"]):
        req = pinned[canonicalize_name(dependency.name)]
        (version,) = (spec.version for spec in req.specifier)
        assert dependency.specifier.contains(version), f"{req} outside pyproject's {dependency}"
    # A lock names no extras: what they pull in is pinned itself (PyJWT[crypto], RS256).
    assert "cryptography" in pinned
    assert all(str(req.specifier).startswith("==") for req in pinned.values())
    assert not DEV_ONLY & set(pinned)


def test_every_timeout_is_below_the_http_apis_30_s() -> None:
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    timeouts = [f["timeout"] for f in config["functions"].values()]
    assert config["provider"]["timeout"] < HTTP_API_TIMEOUT_S
    assert all(t < HTTP_API_TIMEOUT_S for t in timeouts)


# --- packaged templates ------------------------------------------------------------------


@pytest.mark.e2e
def test_template_names_both_functions_and_the_http_routes(packages: dict[str, Package]) -> None:
    p = packages["dev"]
    gateway = function(p, "GatewayLambdaFunction")
    events = function(p, "CacheDasheventsLambdaFunction")
    routes = {r["Properties"]["RouteKey"] for r in p.of_type("AWS::ApiGatewayV2::Route").values()}

    assert (gateway["Handler"], gateway["Runtime"]) == (
        "gateway.lambda_handler.handler",
        "python3.12",
    )
    assert events["Handler"] == "gateway.events_handler.handle"
    assert gateway["Architectures"] == events["Architectures"] == ["x86_64"]
    assert gateway["MemorySize"] == 1024 and gateway["Timeout"] < HTTP_API_TIMEOUT_S
    assert events["Timeout"] < HTTP_API_TIMEOUT_S
    assert routes == HTTP_ROUTES
    (api,) = p.of_type("AWS::ApiGatewayV2::Api").values()
    assert api["Properties"]["ProtocolType"] == "HTTP"


@pytest.mark.e2e
def test_cache_events_read_a_queue_with_a_dead_letter_queue_and_partial_batches(
    packages: dict[str, Package],
) -> None:
    p = packages["dev"]
    queue = p.resources["CacheEventsQueue"]["Properties"]
    (mapping,) = p.of_type("AWS::Lambda::EventSourceMapping").values()
    timeout = function(p, "CacheDasheventsLambdaFunction")["Timeout"]

    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == get_att(
        "CacheEventsDeadLetterQueue", "Arn"
    )
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert mapping["Properties"]["EventSourceArn"] == get_att("CacheEventsQueue", "Arn")
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["FunctionName"] == get_att("CacheDasheventsLambdaFunction", "Arn")


@pytest.mark.e2e
def test_an_eventbridge_rule_sends_the_monoliths_trip_events_to_cache_events(
    packages: dict[str, Package],
) -> None:
    (rule,) = packages["dev"].of_type("AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]

    assert rule["Properties"]["EventPattern"] == {
        "source": ["legacy.monolith"],
        "detail-type": ["TripBooked", "TripCancelled"],
    }
    assert target["Arn"] == get_att("CacheDasheventsLambdaFunction", "Arn")
    assert target["DeadLetterConfig"]["Arn"] == get_att("CacheEventsDeadLetterQueue", "Arn")


@pytest.mark.e2e
def test_cloudfront_honours_cache_control_keys_on_query_and_authorization(
    packages: dict[str, Package],
) -> None:
    p = packages["prod"]
    (distribution,) = p.of_type("AWS::CloudFront::Distribution").values()
    behavior = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
    (policy,) = p.of_type("AWS::CloudFront::CachePolicy").values()
    config = policy["Properties"]["CachePolicyConfig"]
    key = config["ParametersInCacheKeyAndForwardedToOrigin"]
    (origin_policy,) = p.of_type("AWS::CloudFront::OriginRequestPolicy").values()
    forwarded = origin_policy["Properties"]["OriginRequestPolicyConfig"]["HeadersConfig"]

    assert behavior["CachePolicyId"] == {"Ref": "GatewayCachePolicy"}
    assert behavior["OriginRequestPolicyId"] == {"Ref": "GatewayOriginRequestPolicy"}
    assert set(behavior["AllowedMethods"]) >= {"GET", "POST"} and behavior["CachedMethods"] == [
        "GET",
        "HEAD",
    ]
    assert (config["MinTTL"], config["DefaultTTL"]) == (0, 0), "the origin's Cache-Control rules"
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert key["HeadersConfig"] == {
        "HeaderBehavior": "whitelist",
        "Headers": ["Authorization", "Origin"],
    }
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert forwarded == {"HeaderBehavior": "allExcept", "Headers": ["Host"]}


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # AWS managed cache policy
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AWS managed request policy


@pytest.mark.e2e
def test_cloudfront_never_caches_the_rest_passthrough(packages: dict[str, Package]) -> None:
    (distribution,) = packages["prod"].of_type("AWS::CloudFront::Distribution").values()
    (behavior,) = distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]

    assert behavior["PathPattern"] == "/api/*"
    assert behavior["TargetOriginId"] == "gateway-http-api"
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST  # carries Authorization
    assert set(behavior["AllowedMethods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "PATCH",
        "POST",
        "DELETE",
    }


@pytest.mark.e2e
def test_dev_takes_its_values_from_the_environment_and_has_no_vpc(
    packages: dict[str, Package],
) -> None:
    p = packages["dev"]
    env = function(p, "GatewayLambdaFunction")["Environment"]["Variables"]

    assert "VpcConfig" not in function(p, "GatewayLambdaFunction")
    assert env["GATEWAY_STAGE"] == "dev" and env["ROUTES_FILE"] == "routes.yaml"
    assert all(isinstance(value, str) for value in env.values()), "serverless-offline needs strings"
    assert "ProvisionedConcurrencyConfig" not in json.dumps(p.template)


@pytest.mark.e2e
def test_prod_runs_in_the_vpc_with_redis_and_the_secret_by_reference(
    packages: dict[str, Package],
) -> None:
    p = packages["prod"]
    gateway = function(p, "GatewayLambdaFunction")
    env = gateway["Environment"]["Variables"]
    cache = p.resources["RedisCache"]

    assert gateway["VpcConfig"]["SubnetIds"] == {"Fn::Split": [",", PROD_PARAMS["subnetIds"]]}
    assert env["GATEWAY_STAGE"] == "prod"
    assert env["GATEWAY_JWT_SECRET"] == "{{resolve:secretsmanager:bff-gateway/prod/jwt}}"
    assert env["GATEWAY_JWKS_URL"] == PROD_PARAMS["jwksUrl"]
    assert (cache["Type"], cache["Condition"]) == (
        "AWS::ElastiCache::ServerlessCache",
        "CreateRedis",
    )
    assert env["REDIS_URL"]["Fn::If"][0] == "CreateRedis"
    assert p.resources["GatewayLogGroup"]["Properties"]["RetentionInDays"] == 30
    (alias,) = p.of_type("AWS::Lambda::Alias").values()
    (integration,) = p.of_type("AWS::ApiGatewayV2::Integration").values()
    assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {
        "ProvisionedConcurrentExecutions": 2
    }
    assert (
        integration["Properties"]["IntegrationUri"]["Fn::Join"][1][1] == alias["Properties"]["Name"]
    )


@pytest.mark.e2e
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_finds_no_errors(packages: dict[str, Package], stage: str) -> None:
    template = packages[stage].path / "cloudformation-template-update-stack.json"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)


@pytest.mark.e2e
def test_no_stage_other_stages_and_prod_without_its_params_are_refused(
    sls_home: Path, tooling: None
) -> None:
    assert set(PROD_PARAM_USES) == set(REQUIRED_PROD_PARAMS)
    env = sls_env(sls_home)
    for args, missing in [
        ([], ['Cannot resolve variable at "provider.stage"']),  # no silent default to dev
        (["--stage", "qa"], ['"custom.stageIsDevOrProd"']),
        (
            ["--stage", "prod"],
            # osls names where each missing --param is used (v3 named the param itself).
            [f'Cannot resolve variable at "{where}' for where in PROD_PARAM_USES.values()],
        ),
    ]:
        done = subprocess.run(
            serverless("print", *args),
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode != 0
        assert all(needle in done.stdout + done.stderr for needle in missing)


@pytest.mark.e2e
def test_packaging_prints_no_warning(packages: dict[str, Package]) -> None:
    """osls knows python3.12, so configValidationMode is `error` and nothing is left to warn
    about (v3 warned `Invalid configuration encountered at 'provider.runtime'`)."""
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())
    assert config["configValidationMode"] == "error"
    assert config["provider"]["runtime"] == "python3.12"
    for p in packages.values():
        assert not re.search(r"warn|deprecat|invalid", p.output, re.IGNORECASE), p.output


# --- the zip -----------------------------------------------------------------------------


def elf_machine(data: bytes) -> int:
    return int.from_bytes(data[18:20], "little")


def glob_matches(pattern: str, parts: list[str]) -> bool:
    """node-glob as serverless-python-requirements applies slimPatterns: `**` spans any number
    of directories, and neither `*` nor `**` matches a name starting with a dot."""
    pats = pattern.split("/")

    def match(i: int, j: int) -> bool:
        if i == len(pats):
            return j == len(parts)
        if pats[i] == "**":
            return match(i + 1, j) or (
                j < len(parts) and not parts[j].startswith(".") and match(i, j + 1)
            )
        return (
            j < len(parts)
            and not (parts[j].startswith(".") and not pats[i].startswith("."))
            and fnmatch.fnmatchcase(parts[j], pats[i])
            and match(i + 1, j + 1)
        )

    return match(0, 0)


def slimmed_away(name: str, slim_patterns: list[str], no_deploy: set[str]) -> str | None:
    """The slimPattern or noDeploy entry that should have kept `name` out of the zip. A pattern
    matching a directory removes all of it. noDeploy matches the first path component up to a
    `-` or `/` (`tzdata/...`, `tzdata-2026.6.dist-info/...`), as the plugin's injection does."""
    if re.split(r"[-/]|\.py$|\.pyc$", name, maxsplit=1)[0] in no_deploy:
        return "noDeploy"
    parts = name.split("/")
    for depth in range(1, len(parts) + 1):
        for pattern in slim_patterns:
            if glob_matches(pattern, parts[:depth]):
                return pattern
    return None


def test_slim_pattern_matching_follows_node_glob() -> None:
    def slimmed(name: str) -> str | None:
        return slimmed_away(
            name, ["**/__pycache__", "**/*.py[c|o]", "aiohttp/web_*.py", "cffi"], {"tzdata"}
        )

    assert slimmed("aiohttp/web_app.py") == "aiohttp/web_*.py"
    assert slimmed("aiohttp/client.py") is None
    assert slimmed("cffi/api.py") == "cffi"
    assert slimmed("cffi-2.1.1.dist-info/METADATA") is None
    assert slimmed("_cffi_backend.cpython-312-x86_64-linux-gnu.so") is None
    assert slimmed("a/b/__pycache__/c.cpython-312.pyc") == "**/__pycache__"
    assert slimmed("a/b.pyo") == "**/*.py[c|o]"
    assert slimmed("tzdata-2026.6.dist-info/RECORD") == "noDeploy"
    assert slimmed("tzdata/zoneinfo/UTC") == "noDeploy"


@pytest.mark.e2e
def test_zip_holds_the_gateway_routes_and_runtime_deps_only(packages: dict[str, Package]) -> None:
    with zipfile.ZipFile(packages["dev"].zip) as z:
        names = z.namelist()
        unzipped = sum(i.file_size for i in z.infolist())
        machines = {n: elf_machine(z.read(n)[:20]) for n in names if n.endswith(".so")}
    tops = {n.split("/")[0] for n in names}
    zipped_mb = packages["dev"].zip.stat().st_size / 1e6
    print(
        f"bff-gateway.zip: {zipped_mb:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped"
        f" ({unzipped / 2**20:.1f} MiB)"
    )

    assert {"gateway/lambda_handler.py", "gateway/app.py", "routes.yaml"} <= set(names)
    assert {
        "fastapi",
        "strawberry",
        "mangum",
        "httpx",
        "aiohttp",
        "redis",
        "jwt",
        "cryptography",
    } <= tops
    forbidden = {
        "tests",
        "legacy_stub",
        "services",
        "node_modules",
        "docs",
        ".venv",
        ".requirements",
        "bench",
        "uvicorn",
        "uvloop",
        "pytest",
        "_pytest",
        "mypy",
        "ruff",
        "cfnlint",
    }
    assert not tops & forbidden
    workstation_only = {
        "gateway/devstack.py",
        "gateway/serving.py",
        "gateway/__main__.py",
        "gateway/routing/__main__.py",
        "gateway/routing/cli.py",
        "gateway/routing/cli_files.py",
        "gateway/routing/cli_store.py",
    }
    assert not workstation_only & set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert machines and set(machines.values()) == {0x3E}, "x86-64 ELF only"
    assert all("cpython-312-x86_64" in n or ".abi3." in n for n in machines)
    assert unzipped < UNZIPPED_LIMIT_BYTES, f"{unzipped / 2**20:.1f} MiB unzipped"


@pytest.mark.e2e
def test_zip_has_nothing_the_slim_patterns_or_no_deploy_remove(
    packages: dict[str, Package],
) -> None:
    """The plugin's static cache ignores the slim options: a stale cache would ship the paths
    serverless.yml means to drop. Fix: bump custom.requirementsCacheRevision."""
    config = yaml.safe_load((ROOT / "serverless.yml").read_text())["custom"]
    options = config["pythonRequirements"]
    with zipfile.ZipFile(packages["dev"].zip) as z:
        names = z.namelist()

    left = {
        name: why
        for name in names
        if not name.startswith(("gateway/", "routes.yaml"))
        and (why := slimmed_away(name, options["slimPatterns"], set(options["noDeploy"])))
    }
    assert not left, f"stale requirements cache? {dict(list(left.items())[:10])}"
    # What the gateway loads stays: opentelemetry's entry point, the versions importlib.metadata
    # reads, and the cffi backend cryptography's bindings import.
    assert any(
        n.startswith("opentelemetry_api-") and n.endswith(".dist-info/entry_points.txt")
        for n in names
    )
    assert any(n.startswith("redis-") and n.endswith(".dist-info/METADATA") for n in names)
    assert any(n.startswith("_cffi_backend.") for n in names)


# --- what answers: uvicorn, the zip under Python 3.12, serverless offline ------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str = ""
    body: dict[str, Any] | None = None
    traveler: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {"accept": "application/json", "content-type": "application/json"}
        if self.traveler:
            sent["authorization"] = f"Bearer {issue_dev_token(self.traveler, secret=SECRET)}"
        return sent


def gql(schema: str, query: str, traveler: str | None = None) -> Call:
    return Call("POST", f"/graphql/{schema}", body={"query": query}, traveler=traveler)


CALLS = [
    gql("web", "{ topDestinations(limit: 3) { code name } }"),
    gql("mobile", "{ topDestinations(limit: 3) { code name } }"),
    Call(
        "GET",
        "/graphql/web",
        query="query=%7B%20topDestinations(limit%3A%202)%20%7B%20code%20%7D%20%7D",
    ),
    gql("web", "{ me { id } }", traveler="t-1"),
    Call("GET", "/api/destinations/top", query="limit=3"),
]
Answer = tuple[int, Any, str | None]  # status, JSON body, Cache-Control


def over_http(base_url: str) -> list[Answer]:
    answers = []
    for call in CALLS:
        url = f"{base_url}{call.path}" + (f"?{call.query}" if call.query else "")
        r = httpx.request(call.method, url, json=call.body, headers=call.headers(), timeout=30)
        answers.append((r.status_code, r.json(), r.headers.get("cache-control")))
    return answers


@dataclass
class Backends:
    legacy: Service
    flights: Service

    def gateway_env(self) -> dict[str, str]:
        return {
            "LEGACY_URL": self.legacy.url,
            "FLIGHTS_URL": self.flights.url,
            "GATEWAY_JWT_SECRET": SECRET,
            "GATEWAY_STAGE": "dev",
            "ROUTES_FILE": "routes.yaml",
        }


@pytest.fixture(scope="module")
def backends() -> Iterator[Backends]:
    legacy = start_uvicorn("legacy_stub.app:app")
    try:
        flights = start_uvicorn("services.flights.app:app")
        try:
            yield Backends(legacy, flights)
        finally:
            flights.stop()
    finally:
        legacy.stop()


@pytest.fixture(scope="module")
def uvicorn_answers(backends: Backends) -> list[Answer]:
    gateway = start_uvicorn(
        GATEWAY_FACTORY, factory=True, env=backends.gateway_env(), ready_path="/healthz"
    )
    try:
        answers = over_http(gateway.url)
    finally:
        gateway.stop()
    assert answers[0][0] == 200 and answers[0][1]["data"]["topDestinations"], answers[0]
    assert answers[3][1] == {"data": {"me": {"id": "t-1"}}}, "the token must reach the gateway"
    assert answers[4][0] == 200, answers[4]
    return answers


def lambda_python() -> str | None:
    """A CPython 3.12 like Lambda's python3.12: LAMBDA_PYTHON, PATH, or pyenv's versions."""
    pyenv = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [
        os.environ.get("LAMBDA_PYTHON"),
        shutil.which("python3.12"),
        *sorted(glob.glob(f"{pyenv}/versions/3.12*/bin/python3.12")),
    ]
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"]
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return candidate
    return None


# Runs inside the unzipped package (Lambda's /var/task) with `python3.12 -I -S`: no
# site-packages, so every import must come from the zip. Prints one JSON document.
INVOKE = r"""
import base64, json, sys, time
sys.path.insert(0, ".")
started = time.perf_counter()
from gateway.lambda_handler import handler
imported_ms = (time.perf_counter() - started) * 1000
answers = []
for call in json.loads(sys.argv[1]):
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": call["path"],
        "rawQueryString": call["query"], "headers": call["headers"], "isBase64Encoded": False,
        "body": json.dumps(call["body"]) if call["body"] is not None else None,
        "requestContext": {
            "http": {"method": call["method"], "path": call["path"], "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"},
            "accountId": "123456789012", "apiId": "local", "domainName": "localhost",
            "domainPrefix": "localhost", "requestId": "r", "routeKey": "$default",
            "stage": "$default", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0,
        },
    }
    response = handler(event, None)
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
    answers.append([response["statusCode"], json.loads(body), headers.get("cache-control")])
print(json.dumps({"imported_ms": imported_ms, "answers": answers}))
"""


@pytest.fixture(scope="module")
def lambda_task(packages: dict[str, Package], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev zip unzipped, as Lambda lays it out in /var/task."""
    task = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(packages["dev"].zip) as z:
        z.extractall(task)
    return task


def run_in_task(task: Path, script: str, argument: Any, env: Mapping[str, str]) -> Any:
    """`script` under CPython 3.12 with `-I -S -B`: no site-packages (every import comes
    from the zip) and no .pyc written (/var/task is read-only). Its last line is JSON."""
    python = lambda_python()
    if python is None:
        pytest.skip("no CPython 3.12 here (set LAMBDA_PYTHON) to run the x86_64 zip")
    done = subprocess.run(
        [python, "-I", "-S", "-B", "-c", script, json.dumps(argument)],
        cwd=task,
        env={"PATH": os.environ["PATH"], "LAMBDA_TASK_ROOT": str(task), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.e2e
def test_the_zip_alone_answers_like_uvicorn_under_python312(
    lambda_task: Path, backends: Backends, uvicorn_answers: list[Answer]
) -> None:
    calls = [
        {
            "method": c.method,
            "path": c.path,
            "query": c.query,
            "body": c.body,
            "headers": c.headers(),
        }
        for c in CALLS
    ]

    result = run_in_task(lambda_task, INVOKE, calls, backends.gateway_env())

    print(f"import gateway.lambda_handler from the zip, no .pyc: {result['imported_ms']:.0f} ms")
    assert [tuple(a) for a in result["answers"]] == uvicorn_answers


# Prepended to INVOKE: publishes the key set in $TEST_JWKS on a loopback port and points the
# gateway at it (GATEWAY_JWKS_URL), before the handler is imported.
SERVE_JWKS = r"""
import os, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

class KeySet(BaseHTTPRequestHandler):
    def do_GET(self):
        body = os.environ["TEST_JWKS"].encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), KeySet)
threading.Thread(target=server.serve_forever, daemon=True).start()
os.environ["GATEWAY_JWKS_URL"] = f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
"""


@pytest.mark.e2e
def test_the_zip_alone_verifies_rs256_tokens_against_a_jwks(
    lambda_task: Path, backends: Backends
) -> None:
    """The prod path for IdP tokens: PyJWT verifies RS256 with the zip's cryptography (its Rust
    bindings and the cffi backend), so the slimmed package must still carry all of that."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]}
    now = int(time.time())
    claims = {"sub": "t-9", "role": "traveler", "iat": now, "exp": now + 600}
    tokens = [
        jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"}),
        jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"}),  # wrong signature
        issue_dev_token("t-9", secret=SECRET),  # HS256: refused once JWKS is configured
    ]
    calls = [
        {
            "method": "POST",
            "path": "/graphql/web",
            "query": "",
            "body": {"query": "{ me { id } }"},
            "headers": {
                "accept": "application/json",
                "content-type": "application/json",
                "authorization": f"Bearer {token}",
            },
        }
        for token in tokens
    ]

    result = run_in_task(
        lambda_task,
        SERVE_JWKS + INVOKE,
        calls,
        {**backends.gateway_env(), "TEST_JWKS": json.dumps(jwks)},
    )

    assert [(status, body) for status, body, _ in result["answers"]] == [
        (200, {"data": {"me": {"id": "t-9"}}}),
        (200, {"data": {"me": None}}),
        (200, {"data": {"me": None}}),
    ]


INVOKE_EVENTS = r"""
import json, sys, time
sys.path.insert(0, ".")
started = time.perf_counter()
from gateway.events_handler import handle
imported_ms = (time.perf_counter() - started) * 1000
heavy = sorted({"fastapi", "strawberry", "redis", "mangum"} & set(sys.modules))
trip = json.loads(sys.argv[1])
sqs = {"Records": [
    {"messageId": "good-1", "eventSource": "aws:sqs", "body": json.dumps(trip)},
    {"messageId": "bad-1", "eventSource": "aws:sqs", "body": "not an event"},
]}
eventbridge = {"id": "e-1", "source": "legacy.monolith", "detail-type": trip["type"],
               "detail": trip}
print(json.dumps({"imported_ms": imported_ms, "heavy": heavy,
                  "sqs": handle(sqs, None), "eventbridge": handle(eventbridge, None)}))
"""


@pytest.mark.e2e
def test_the_zip_alone_runs_cache_events_with_partial_batch_responses(lambda_task: Path) -> None:
    trip = {
        "seq": 12,
        "type": "TripCancelled",
        "id": "trip-1",
        "traveler_id": "t-1",
        "at": "2026-05-01T10:00:00Z",
    }

    result = run_in_task(lambda_task, INVOKE_EVENTS, trip, {"REDIS_URL": ""})

    print(f"import gateway.events_handler from the zip, no .pyc: {result['imported_ms']:.0f} ms")
    assert result["heavy"] == [], "the cache-events cold start imports the HTTP stack"
    assert result["sqs"] == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    assert result["eventbridge"] == {}


@dataclass
class Offline:
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """serverless-offline spawns python workers: end the whole process group it leads."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_offline(env: Mapping[str, str], log: Path) -> Offline:
    http_port, lambda_port = free_port(), free_port()
    venv = Path(sys.executable).parent.parent
    command = serverless(
        "offline",
        "--stage",
        "dev",
        "--host",
        "127.0.0.1",
        "--httpPort",
        str(http_port),
        "--lambdaPort",
        str(lambda_port),
    )
    full_env = {**env, "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    offline = Offline(f"http://127.0.0.1:{http_port}", process)
    try:
        wait_ready(Service("serverless offline", offline.url, process), "/healthz", 60)
    except BaseException:
        offline.stop()
        raise
    return offline


@pytest.mark.e2e
def test_serverless_offline_answers_like_uvicorn(
    tooling: None,
    sls_home: Path,
    backends: Backends,
    uvicorn_answers: list[Answer],
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    offline = start_offline(sls_env(sls_home, **backends.gateway_env()), tmp_path / "offline.log")
    try:
        ready_s = time.monotonic() - started
        answers = over_http(offline.url)
    finally:
        offline.stop()
    print(f"serverless offline ready in {ready_s:.1f} s")
    assert without_hapi_default(answers, uvicorn_answers) == uvicorn_answers, (
        tmp_path / "offline.log"
    ).read_text()[-4000:]


def without_hapi_default(answers: list[Answer], reference: list[Answer]) -> list[Answer]:
    """serverless-offline's HTTP server (hapi) adds `Cache-Control: no-cache` to a response
    that has none; API Gateway adds nothing. Only that difference is forgiven."""
    return [
        (status, body, None if (cc, ref[2]) == ("no-cache", None) else cc)
        for (status, body, cc), ref in zip(answers, reference, strict=True)
    ]


@pytest.mark.e2e
def test_packaging_needs_no_network_once_the_wheels_are_cached(
    packages: dict[str, Package],
    sls_home: Path,
    tmp_path: Path,
) -> None:
    """Run in a network namespace of its own: only loopback, no AWS, no registry."""
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False).returncode:
        pytest.skip("unshare -rn (a user and network namespace) is not permitted here")
    service = service_copy(tmp_path)
    run(
        ["unshare", "-rn", *serverless("package", "--stage", "dev")],
        env=sls_env(sls_home),
        cwd=service,
    )
    with zipfile.ZipFile(service / ".serverless" / "bff-gateway.zip") as z:
        assert "gateway/lambda_handler.py" in z.namelist()
