"""What a scenario is: a name, the services it needs, and a `run` that returns a Result.

Add one by writing a class with these three members (load.py has the HTTP kind, micro.py
and coldstart.py the in-process and fresh-process kinds) and listing it in catalog.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bench.results import Result
from bench.services import Stack


@dataclass(frozen=True)
class Options:
    duration_s: float = 10.0
    warmup_s: float = 2.0
    connections: int = 32
    threads: int = 1
    cold_start_runs: int = 20
    lambda_runs: int = 5


class Scenario(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def needs(self) -> tuple[str, ...]:
        """Services (keys of services.SERVICES) that must be running for `run`."""
        ...

    def run(self, stack: Stack, options: Options) -> Result: ...
