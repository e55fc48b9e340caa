"""Problems found in a routes file, and the one error that carries them.

RoutesError (ValueError)       raised by parse_table / load_table / RouteTableSource
  └─ .problems: tuple[Problem, ...]
        each names the file, the line, the entry, what is wrong and how to fix it:
        "routes.yaml:12: routes[1] (/api/flights): canary.percent 120 is outside 0-100;
         use a whole number from 0 to 100"
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a routes file. `line` is 1-based; 0 means the whole file."""

    source: str
    line: int
    entry: str
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        entry = f" {self.entry}:" if self.entry else ""
        return f"{where}:{entry} {self.problem}; {self.fix}"


class RoutesError(ValueError):
    """A routes file that cannot be used. The attributes describe the first problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("RoutesError needs at least one problem")
        super().__init__(*problems)
        self.problems = tuple(problems)
        first = self.problems[0]
        self.source = first.source
        self.line = first.line
        self.entry = first.entry
        self.problem = first.problem
        self.fix = first.fix

    def __str__(self) -> str:
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        return f"{self.problems[0]}{suffix}"
