"""One event loop for the whole suite (hypothesis tests are plain functions that run their
requests on it), and the gateway pairs, built once and shared by the tests."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.differential.harness import COLD, WARM, Pair, Tally, write_routes

HANG_TIMEOUT_MS = 400

# When a non-null field fails, graphql-core leaves its siblings' resolver coroutines
# unawaited (the reference executor, in both gateways), and Python warns when one is
# collected. If the collection happens inside a namedtuple's `__new__` (compiled with
# empty builtins) the warning can't even be imported and surfaces as an unraisable
# KeyError('__import__') instead. Both are ignored here, by name, and nothing else.
UNAWAITED_RESOLVERS = (
    "ignore:coroutine 'GraphQLCoreConverter.from_resolver.<locals>._async_resolver' "
    "was never awaited:RuntimeWarning",
    r"ignore:Exception ignored in. <coroutine object GraphQLCoreConverter\.from_resolver"
    ":pytest.PytestUnraisableExceptionWarning",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            for spec in UNAWAITED_RESOLVERS:
                item.add_marker(pytest.mark.filterwarnings(spec))


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """The first line of the message, and the test that was running."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "?")
        self.records.append(f"{record.getMessage()[:300]} (during {test})")


@pytest.fixture(scope="session", autouse=True)
def asyncio_errors() -> Iterator[list[str]]:
    """What asyncio logs as errors during the session: a task that failed and was never
    awaited ("Task exception was never retrieved") means a load's failure went nowhere."""
    handler = Records()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture(scope="session")
def tally() -> Tally:
    return Tally()


@pytest.fixture(scope="session")
def cold(runner: asyncio.Runner) -> Iterator[Pair]:
    """Caches off in both gateways: every read reaches the stub."""
    pair = Pair(cache=COLD)
    yield pair
    runner.run(pair.aclose())


@pytest.fixture(scope="session")
def warm(runner: asyncio.Runner) -> Iterator[Pair]:
    """Long TTLs in both gateways: a case's second run reads everything from the caches."""
    pair = Pair(cache=WARM)
    yield pair
    runner.run(pair.aclose())


@pytest.fixture(scope="session")
def hanging(runner: asyncio.Runner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Caches off and a short backend deadline, for hung backends."""
    routes = write_routes(
        tmp_path_factory.mktemp("routes") / "routes.yaml", timeout_ms=HANG_TIMEOUT_MS
    )
    pair = Pair(cache=COLD, routes_file=routes)
    yield pair
    runner.run(pair.aclose())
