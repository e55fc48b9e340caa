"""Short, locale-independent date ranges for the mobile schema's `dates` field."""

from datetime import date

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_EN_DASH = "\u2013"


def format_date_range(start: date, end: date) -> str:
    """The range from `start` to `end`, both included, as short as stays unambiguous.

    1 Dec 2026 → 1 Dec 2026:   "1 Dec 2026"
    1 Dec 2026 → 5 Dec 2026:   "1–5 Dec 2026"
    28 Nov 2026 → 3 Dec 2026:  "28 Nov – 3 Dec 2026"
    28 Dec 2026 → 3 Jan 2027:  "28 Dec 2026 – 3 Jan 2027"
    """
    if end < start:
        raise ValueError(
            f"date range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    if start == end:
        return _day_month_year(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}{_EN_DASH}{_day_month_year(end)}"
    if start.year == end.year:
        return f"{_day_month(start)} {_EN_DASH} {_day_month_year(end)}"
    return f"{_day_month_year(start)} {_EN_DASH} {_day_month_year(end)}"


def _day_month(day: date) -> str:
    """date(2026, 12, 1) → "1 Dec"."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


def _day_month_year(day: date) -> str:
    """date(2026, 12, 1) → "1 Dec 2026"."""
    return f"{_day_month(day)} {day.year}"
