"""Money in minor units: exact currency conversion and display formatting.

Amounts are ints in a currency's minor units (cents, pence; yen have none). Conversion uses
the monolith's fx rates for a base currency, `GET /api/fx?base=T`, where one unit of T is
`rates[C]` units of C. The rates must stay exactly as written in the JSON, so parse them with
`json.loads(body, parse_float=Decimal)`; whole-number rates then arrive as ints, which is
fine. A float rate is refused, because it no longer says what the JSON said.
"""

import functools
from collections.abc import Iterable, Mapping
from decimal import Decimal

_ZERO_DECIMAL_CURRENCIES = frozenset({"JPY"})

_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "JPY": "¥"}


class MissingRateError(LookupError):
    """The fx rates for `base` have no entry for `currency`."""

    def __init__(self, base: str, currency: str) -> None:
        super().__init__(base, currency)
        self.base = base
        self.currency = currency

    def __str__(self) -> str:
        return f"no fx rate for {self.currency} in the rates for base {self.base}"


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point in `currency`: "JPY" → 0, "EUR" → 2."""
    return 0 if currency in _ZERO_DECIMAL_CURRENCIES else 2


def convert_minor(
    amount: int, currency: str, *, to: str, rates: Mapping[str, Decimal | int]
) -> int:
    """Convert `amount` minor units of `currency` to minor units of `to`, exactly.

    `rates` are the rates for base `to`. The result is rounded half-to-even once, at the end:
    1 USD cent at rates {"USD": Decimal("0.4")} is 2.5 EUR cents → 2;
    12345 JPY at rates {"JPY": Decimal("160")} is 7715.625 EUR cents → 7716.
    """
    if currency == to:
        return amount
    # amount / minor(currency) / rate * minor(to), as one integer fraction (Fraction was
    # most of a trips page's CPU), rounded half-to-even like round(Fraction).
    multiply, divide = _factor(currency, to=to, rates=rates)
    return _round_half_even(amount * multiply, divide)


def _factor(currency: str, *, to: str, rates: Mapping[str, Decimal | int]) -> tuple[int, int]:
    """Minor units of `currency` → minor units of `to` is `* multiply / divide`, exactly."""
    numerator, denominator = _rate(rates, base=to, currency=currency)
    return denominator * _minor_per_unit(to), _minor_per_unit(currency) * numerator


def _round_half_even(p: int, q: int) -> int:
    """p / q (q > 0) to the nearest int, ties to even: (5, 2) → 2, (7, 2) → 4, (-5, 2) → -2."""
    quotient, remainder = divmod(p, q)
    twice = 2 * remainder
    if twice > q or (twice == q and quotient % 2 == 1):
        quotient += 1
    return quotient


def total_minor(
    prices: Iterable[tuple[int, str]],
    *,
    to: str,
    rates: Mapping[str, Decimal | int],
    factors: dict[str, tuple[int, int]] | None = None,
) -> int:
    """Sum `(amount, currency)` prices in minor units of `to`, each rounded before summing.

    [(1, "USD"), (1, "USD")] at rates {"USD": Decimal("0.4")} → 2 + 2 = 4 (not round(5.0)).
    `factors` (per currency: multiply by, divide by) may be shared by calls with the same
    `to` and `rates`, so a page of totals works each currency's factor out once.
    """
    total = 0
    if factors is None:
        factors = {}
    for amount, currency in prices:
        if currency == to:
            total += amount
            continue
        factor = factors.get(currency)
        if factor is None:
            factor = factors[currency] = _factor(currency, to=to, rates=rates)
        total += _round_half_even(amount * factor[0], factor[1])
    return total


@functools.lru_cache(maxsize=4096)  # pure, and a page shows the same prices again and again
def format_money(amount: int, currency: str) -> str:
    """Display minor units: (123450, "EUR") → "€1,234.50", (-100, "CHF") → "-CHF 1.00"."""
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(currency, f"{currency} ")
    return f"{sign}{symbol}{_format_number(abs(amount), minor_exponent(currency))}"


def _format_number(amount: int, exponent: int) -> str:
    """Non-negative minor units with thousands separators: (123450, 2) → "1,234.50"."""
    whole, fraction = divmod(amount, _power_of_ten(exponent))
    if exponent == 0:
        return f"{whole:,}"
    return f"{whole:,}.{fraction:0{exponent}d}"


def _minor_per_unit(currency: str) -> int:
    """Minor units in one unit of `currency`: "EUR" → 100, "JPY" → 1."""
    return _power_of_ten(minor_exponent(currency))


def _power_of_ten(exponent: int) -> int:
    """10 ** exponent, typed as int (mypy types `int ** int` as Any): 2 → 100."""
    return int(10**exponent)


def _rate(rates: Mapping[str, Decimal | int], *, base: str, currency: str) -> tuple[int, int]:
    """The exact rate of `currency` against `base` as (numerator, denominator > 0), or
    MissingRateError."""
    try:
        rate = rates[currency]
    except KeyError:
        raise MissingRateError(base, currency) from None
    if isinstance(rate, float):
        raise TypeError(
            f"fx rate for {currency} is a float ({rate!r}); parse the JSON with "
            "parse_float=Decimal so the rate stays exactly as written"
        )
    if rate <= 0:
        raise ValueError(f"fx rate for {currency} in the rates for base {base} must be > 0: {rate}")
    if isinstance(rate, int):
        return rate, 1
    return rate.as_integer_ratio()
