"""Fresh-process measurements: what a Lambda cold start costs before and at the first request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.fixtures import token
from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.stats import median, percentile

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_IMPORT = "import gateway.lambda_handler"
FRAMEWORK_IMPORT = "import fastapi, strawberry"


def lambda_env(stack: Stack, legacy_url: str) -> dict[str, str]:
    """What the Lambda function gets: the repository's routes.yaml and the backends' URLs."""
    return {
        **os.environ,
        "LEGACY_URL": legacy_url,
        "FLIGHTS_URL": legacy_url,
        "GATEWAY_JWT_SECRET": stack.secret,
        "ROUTES_FILE": str(ROOT / "routes.yaml"),
        "GATEWAY_STAGE": "dev",
        "REDIS_URL": "",
        "EVENTS_FEED_URL": "",
    }


def time_process(command: Sequence[str], env: Mapping[str, str]) -> float:
    """Wall time of one fresh process, start to exit; RuntimeError when it fails."""
    started = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {run.stderr.strip()[-1000:]}")
    return elapsed


@dataclass(frozen=True)
class ImportRatioScenario:
    """Median wall time of `python -c "import gateway.lambda_handler"` over fresh processes,
    divided by that of `python -c "import fastapi, strawberry"`, interleaved run by run."""

    name: str = "cold-start"
    title: str = 'fresh `python -c "import gateway.lambda_handler"`'
    needs: tuple[str, ...] = ()

    def run(self, stack: Stack, options: Options) -> Result:
        # Nothing may connect at import time, so the backends' URL may point at nothing.
        env = lambda_env(stack, "http://127.0.0.1:9")
        commands = {
            "gateway": [sys.executable, "-c", GATEWAY_IMPORT],
            "frameworks": [sys.executable, "-c", FRAMEWORK_IMPORT],
            "interpreter": [sys.executable, "-c", "pass"],
        }
        for command in commands.values():  # once each, unmeasured: bytecode caches written
            time_process(command, env)
        samples: dict[str, list[float]] = {key: [] for key in commands}
        for _ in range(options.cold_start_runs):
            for key, command in commands.items():
                samples[key].append(time_process(command, env))
        medians = {key: median(values) for key, values in samples.items()}
        python = medians["interpreter"]
        return Result(
            name=self.name,
            title=self.title,
            p50_s=medians["gateway"],
            p99_s=percentile(samples["gateway"], 99),
            baseline="import fastapi, strawberry",
            ratio=medians["gateway"] / medians["frameworks"],
            targets=(Target("ratio", "<=", 1.3),),
            note=(
                f"medians of {options.cold_start_runs} fresh processes each: gateway "
                f"{medians['gateway'] * 1e3:.0f} ms, fastapi+strawberry "
                f"{medians['frameworks'] * 1e3:.0f} ms, bare interpreter {python * 1e3:.0f} ms "
                f"(imports alone: {(medians['gateway'] - python) * 1e3:.0f} ms vs "
                f"{(medians['frameworks'] - python) * 1e3:.0f} ms)"
            ),
            details={"samples_s": samples, "medians_s": medians},
        )


@dataclass(frozen=True)
class LambdaFirstInvocationScenario:
    """The first and second invocation of `handler` in a fresh process (HTTP API v2 event,
    `{ topDestinations { code } }`), against the running stub."""

    name: str = "lambda-first"
    title: str = "Lambda handler: first invocation in a fresh process"
    needs: tuple[str, ...] = ("stub",)

    def run(self, stack: Stack, options: Options) -> Result:
        env = {**lambda_env(stack, stack.url("stub")), "BENCH_TOKEN": token(stack)}
        probes = [self._probe(env) for _ in range(options.lambda_runs)]
        failed = [
            probe for probe in probes if probe["status"] != 200 or '"errors"' in probe["body"]
        ]
        if failed:
            return Result(self.name, self.title, status="failed", note=str(failed[0])[:300])
        first = [probe["first_s"] for probe in probes]
        imports = median([probe["import_s"] for probe in probes])
        warm = median([probe["second_s"] for probe in probes])
        return Result(
            name=self.name,
            title=self.title,
            p50_s=median(first),
            p99_s=max(first),
            note=(
                f"median of {options.lambda_runs} fresh processes: import {imports * 1e3:.0f} ms, "
                f"first invocation {median(first) * 1e3:.1f} ms, second {warm * 1e3:.1f} ms "
                "(p99 column = slowest first invocation)"
            ),
            details={"probes": probes},
        )

    def _probe(self, env: Mapping[str, str]) -> dict[str, Any]:
        command = [sys.executable, "-m", "bench.lambda_probe"]
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            raise RuntimeError(f"bench.lambda_probe failed: {run.stderr.strip()[-1000:]}")
        probe: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
        return probe
