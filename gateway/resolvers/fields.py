"""The vocabulary of field declarations (see the package docstring).

Declarations are keyed by the Python name of a field (the backend's snake_case); a field a
type does not declare is a `Read` of that name. The values are the backends' entity dicts
and the gateway's own values (`Page`, `Segment`); a `Read` leaf is converted the way the
schema's scalar or enum expects (`gateway.schemas.declared`; the planner serialises the
same values with the schema's own scalars).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.viewer import Viewer

Args = Mapping[str, Any]
BatchLoad = Callable[[Viewer, Sequence[Any], Args], Awaitable[Sequence[Any]]]
Check = Callable[[Viewer, Sequence[Any], Args], None]
NO_ARGS: Args = {}


@dataclass(frozen=True, slots=True)
class Read:
    """The entity's own value: `Read("flight_number")` → entity["flight_number"]."""

    key: str


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute of a value the gateway built (a `Page`, a `Segment`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Compute:
    """A pure function of the parent: `Compute(stay_nights)`.

    Computed when the parent enters the answer, with its reads (a failure fails the whole
    parent, see `gateway.schemas.declared`), unless `lazy`: then only when asked for, and a
    failure is the field's own (`formatted`).
    """

    fn: Callable[[Any], Any]
    lazy: bool = False


@dataclass(frozen=True, slots=True)
class Load:
    """Resolved for all parents of one level at once, in order: `fn(viewer, parents, args)`
    returns one value per parent. Root entry points get the parents `[None]`.

    `check` raises the refusals `fn` would raise that need no data (gateway.access): the
    planner runs the checks of a whole level before it starts any of the level's loads, so
    a refused request reaches the reference executor with nothing half-loaded.
    """

    fn: BatchLoad
    check: Check | None = None
    # Refusals of the arguments alone (`first` out of range): checked for the whole
    # operation before anything is loaded, wherever the field sits.
    check_args: Callable[[Args], None] | None = None
    # Cache privacy (gateway.privacy): a root entry point is private unless it is
    # declared public here, with the TTL kind (CacheConfig.ttl) that caps the answer.
    public: str | None = None


Declaration = Read | Attr | Compute | Load
TypeFields = Mapping[str, Declaration]
