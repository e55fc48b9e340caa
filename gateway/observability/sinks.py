"""The two ways the numbers leave the process.

- `prometheus_text(metrics)`: the Prometheus exposition format for GET /metrics (uvicorn),
  rendered by prometheus-client from the in-process counters.
- `emf_lines(snapshot, namespace=...)`: CloudWatch Embedded Metric Format documents, one
  JSON line per series, printed to stdout after each Lambda invocation; CloudWatch turns them
  into metrics with no API call and no agent (docs/operations.md says why not Powertools).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import orjson

from gateway.observability.metrics import BUCKETS, HELP, Metrics, Snapshot

NAMESPACE = "BffGateway"


def prometheus_text(metrics: Metrics) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))
    text: bytes = generate_latest(registry)
    return text


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        snapshot = self._metrics.snapshot()
        families: dict[str, Any] = {}
        for (name, labels), value in sorted(snapshot.counters.items()):
            family = families.get(name)
            if family is None:
                family = families[name] = CounterMetricFamily(
                    name.removesuffix("_total"), HELP.get(name, name), labels=[k for k, _ in labels]
                )
            family.add_metric([v for _, v in labels], value)
        for (name, labels), histogram in sorted(snapshot.histograms.items()):
            family = families.get(name)
            if family is None:
                family = families[name] = HistogramMetricFamily(
                    name, HELP.get(name, name), labels=[k for k, _ in labels]
                )
            running, buckets = 0, []
            for bound, count in zip(BUCKETS, histogram.buckets, strict=True):
                running += count
                buckets.append((repr(bound), running))
            buckets.append(("+Inf", histogram.count))
            family.add_metric([v for _, v in labels], buckets, histogram.total)
        yield from families.values()


def emf_lines(snapshot: Snapshot, *, namespace: str = NAMESPACE) -> list[str]:
    """One EMF document per series: each has its own dimension set.

    {"_aws": {"Timestamp": 1764475200000, "CloudWatchMetrics": [{"Namespace": "BffGateway",
      "Dimensions": [["schema", "status"]], "Metrics": [{"Name": "gateway_requests_total",
      "Unit": "Count"}]}]}, "schema": "web", "status": "200", "gateway_requests_total": 3}
    """
    stamp = int(time.time() * 1000)
    lines = []
    for (name, labels), value in sorted(snapshot.counters.items()):
        lines.append(_document(namespace, stamp, name, labels, value, "Count"))
    for (name, labels), histogram in sorted(snapshot.histograms.items()):
        millis = [round(s * 1000, 3) for s in histogram.samples]
        lines.append(
            _document(
                namespace, stamp, name.replace("_seconds", "_ms"), labels, millis, "Milliseconds"
            )
        )
    return lines


def _document(namespace: str, stamp: int, name: str, labels: Any, value: Any, unit: str) -> str:
    dimensions = [k for k, _ in labels]
    return orjson.dumps(
        {
            "_aws": {
                "Timestamp": stamp,
                "CloudWatchMetrics": [
                    {
                        "Namespace": namespace,
                        "Dimensions": [dimensions],
                        "Metrics": [{"Name": name, "Unit": unit}],
                    }
                ],
            },
            **dict(labels),
            name: value,
        }
    ).decode()


def write_stdout(line: str) -> None:
    """Under uvicorn a process's stdout; on Lambda, CloudWatch Logs. Flushed at once: a
    Lambda container may freeze right after the answer. Through `sys.stdout`, not the file
    descriptor, so whoever replaced it (a test's log file) gets the lines."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
