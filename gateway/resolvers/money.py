"""Money as the schemas show it: a price read from a booking, its display form, and a
trip's total cost converted to its traveler's currency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from gateway import eager
from gateway.loaders import Entity
from gateway.money import format_money, total_minor
from gateway.resolvers.bookings import bookings_of
from gateway.resolvers.fields import NO_ARGS, Args, Compute, TypeFields
from gateway.resolvers.travelers import travelers_of
from gateway.viewer import Viewer


def formatted(money: Mapping[str, Any]) -> str:
    """{"amount": 123450, "currency": "EUR"} → "€1,234.50"."""
    return format_money(money["amount"], money["currency"])


async def total_costs(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[Entity]:
    """Every booking converted to the traveler's currency, rounded per item, summed; rates
    are loaded only for the currencies some booking is not already in."""
    travelers, bookings = await eager.gather(
        travelers_of(viewer, trips), bookings_of(viewer, trips)
    )
    targets = [traveler["currency"] for traveler in travelers]
    prices = [b.prices() for b in bookings]
    needed = sorted(
        {to for to, p in zip(targets, prices, strict=True) if any(c != to for _, c in p)}
    )
    rates: dict[str, Mapping[str, Decimal]] = {}
    if needed:
        rates = dict(zip(needed, await viewer.loaders.rates(needed), strict=True))
    factors: dict[str, dict[str, tuple[int, int]]] = {to: {} for to in targets}
    return [
        {
            "amount": total_minor(p, to=to, rates=rates.get(to, {}), factors=factors[to]),
            "currency": to,
        }
        for to, p in zip(targets, prices, strict=True)
    ]


MONEY: TypeFields = {"formatted": Compute(formatted, lazy=True)}
MOBILE_MONEY: TypeFields = {}
