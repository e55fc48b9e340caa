"""Expected answers computed straight from the monolith's REST data, independently of the
gateway's code (no import from `gateway`), for end-to-end assertions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def decimals(currency: str) -> int:
    return 0 if currency == "JPY" else 2


def convert(amount: int, currency: str, to: str, rates: dict[str, Any]) -> int:
    if currency == to:
        return amount
    exact = Fraction(amount, 10 ** decimals(currency)) / Fraction(str(rates[currency]))
    rounded: int = round(exact * 10 ** decimals(to))
    return rounded


def formatted(amount: int, currency: str) -> str:
    e = decimals(currency)
    number = f"{Decimal(amount).scaleb(-e):,.{e}f}"
    return f"{SYMBOLS[currency]}{number}" if currency in SYMBOLS else f"{currency} {number}"


def dates(start: str, end: str) -> str:
    a, b = date.fromisoformat(start), date.fromisoformat(end)
    if a == b:
        return f"{a.day} {MONTHS[a.month - 1]} {a.year}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{b.day} {MONTHS[a.month - 1]} {a.year}"
    if a.year == b.year:
        return f"{a.day} {MONTHS[a.month - 1]} – {b.day} {MONTHS[b.month - 1]} {b.year}"
    return f"{a.day} {MONTHS[a.month - 1]} {a.year} – {b.day} {MONTHS[b.month - 1]} {b.year}"


def iso(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()


def utc_at(day: str, hour: int) -> str:
    d = date.fromisoformat(day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC).isoformat()


def segments(flights: list[Any], stays: list[Any], cars: list[Any]) -> list[dict[str, str]]:
    rows = (
        [
            (
                datetime.fromisoformat(f["departs_at"]),
                0,
                {
                    "kind": "FLIGHT",
                    "startsAt": iso(f["departs_at"]),
                    "endsAt": iso(f["arrives_at"]),
                    "title": f"{f['flight_number']} {f['origin']} → {f['destination']}",
                },
            )
            for f in flights
        ]
        + [
            (
                datetime.fromisoformat(utc_at(s["check_in"], 15)),
                1,
                {
                    "kind": "STAY",
                    "startsAt": utc_at(s["check_in"], 15),
                    "endsAt": utc_at(s["check_out"], 11),
                    "title": s["hotel"]["name"],
                },
            )
            for s in stays
        ]
        + [
            (
                datetime.fromisoformat(c["pickup_at"]),
                2,
                {
                    "kind": "CAR",
                    "startsAt": iso(c["pickup_at"]),
                    "endsAt": iso(c["dropoff_at"]),
                    "title": f"{c['company']}, {c['vehicle_class']}",
                },
            )
            for c in cars
        ]
    )
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def nights(stay: dict[str, Any]) -> int:
    delta: timedelta = date.fromisoformat(stay["check_out"]) - date.fromisoformat(stay["check_in"])
    return delta.days
