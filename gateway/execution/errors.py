"""Why the planner hands an operation to the reference executor."""

from __future__ import annotations


class NotCovered(Exception):
    """The operation uses something the planner does not plan (mutation, introspection,
    @defer, an undeclared field): strawberry answers it, every time."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Fallback(Exception):
    """This run can't answer exactly like the reference (a null where the schema says
    non-null, a value a scalar refuses): strawberry answers this request."""
