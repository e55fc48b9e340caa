"""Path templates: literal segments, `{param}` segments and a trailing `/**`.

    /api/flights/{id}   matches /api/flights/fl-1, not /api/flights or /api/flights/fl-1/x
    /api/trips/**       matches /api/trips, /api/trips/trip-1 and /api/trips/trip-1/cancel

When several templates match a path, the more specific one wins, compared segment by segment
from the left: a literal beats a `{param}`, which beats `/**`.
"""

import re
from dataclasses import dataclass

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()+,;=:@%-]+")

# Specificity ranks of one position; a template that ends exactly ranks 1 at its end, so
# /api/flights beats /api/flights/** on the path /api/flights.
_LITERAL_RANK, _PARAM_RANK, _END_RANK, _REST_RANK = 3, 2, 1, 0


class TemplateError(ValueError):
    """A template that cannot be used; `problem` and `fix` go into the routes error."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem = problem
        self.fix = fix


@dataclass(frozen=True)
class PathTemplate:
    """A parsed template. `segments` holds literal text, or None for a `{param}`."""

    text: str
    segments: tuple[str | None, ...]
    rest: bool

    @classmethod
    def parse(cls, text: str) -> "PathTemplate":
        """ "/api/flights/{id}" → PathTemplate(segments=("api", "flights", None), rest=False)."""
        if not text.startswith("/"):
            raise TemplateError(f"path {text!r} must start with /", f"write /{text}")
        if "?" in text:
            raise TemplateError(
                f"path {text!r} has a query", "routes match the path only; drop the ?..."
            )
        parts = [] if text == "/" else text[1:].split("/")
        rest = bool(parts) and parts[-1] == "**"
        segments = tuple(_segment(part, text) for part in (parts[:-1] if rest else parts))
        _check_unique_params(text)
        return cls(text=text, segments=segments, rest=rest)

    @property
    def shape(self) -> str:
        """The template with parameter names dropped: /api/trips/{id} → /api/trips/{}."""
        parts = ["{}" if part is None else part for part in self.segments]
        return "/" + "/".join([*parts, "**"] if self.rest else parts)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Bigger is more specific; compare two of them only for a path both match."""
        ranks = [_PARAM_RANK if part is None else _LITERAL_RANK for part in self.segments]
        return (*ranks, _REST_RANK if self.rest else _END_RANK)

    def matches(self, path: str) -> bool:
        """Whether `path` (a query after ? is ignored) fits this template."""
        return self.matches_parts(path_parts(path))

    def matches_parts(self, parts: list[str]) -> bool:
        """`matches` for a path already split by `path_parts` (split once, tried on many)."""
        if len(parts) < len(self.segments) or (len(parts) > len(self.segments) and not self.rest):
            return False
        return all(
            part == wanted if wanted is not None else part != ""
            for part, wanted in zip(parts, self.segments, strict=False)
        )

    def params(self, path: str) -> list[str]:
        """The values of the `{param}` segments of a path this template matches, in order.

        "/api/travelers/{id}/trips" on "/api/travelers/t-1/trips" → ["t-1"]
        """
        parts = path.partition("?")[0].removeprefix("/").split("/")
        return [part for part, wanted in zip(parts, self.segments, strict=False) if wanted is None]


def path_parts(path: str) -> list[str]:
    """ "/api/trips/trip-1?x=1" → ["api", "trips", "trip-1"]."""
    path = path.partition("?")[0]
    return [] if path in ("", "/") else path.removeprefix("/").split("/")


def _segment(part: str, template: str) -> str | None:
    if part == "":
        fixed = "/" + "/".join(p for p in template.split("/") if p)
        raise TemplateError(f"path {template!r} has an empty segment", f"write {fixed}")
    if part == "**":
        raise TemplateError(
            f"path {template!r} has ** before the end",
            "/** may only end a template; use {param} for one segment in the middle",
        )
    if _PARAM.fullmatch(part):
        return None
    if "{" in part or "}" in part:
        raise TemplateError(
            f"segment {part!r} of {template!r} is not a whole {{param}}",
            "a parameter is a whole segment named like {id}, e.g. /api/flights/{id}",
        )
    if not _LITERAL.fullmatch(part):
        raise TemplateError(
            f"segment {part!r} of {template!r} is not a plain path segment",
            "use literal text, {param} for one segment, or a trailing /** for the rest",
        )
    return part


def _check_unique_params(template: str) -> None:
    names = _PARAM.findall(template)
    for name in names:
        if names.count(name) > 1:
            raise TemplateError(
                f"path {template!r} names {{{name}}} twice", "give each parameter its own name"
            )
