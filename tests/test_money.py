from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.money import (
    MissingRateError,
    _round_half_even,
    convert_minor,
    format_money,
    minor_exponent,
    total_minor,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("JPY", 0), ("EUR", 2), ("GBP", 2), ("USD", 2), ("CHF", 2), ("SEK", 2)],
)
def test_minor_exponent(currency: str, exponent: int) -> None:
    assert minor_exponent(currency) == exponent


# Each row: amount in minor units of `currency`, target `to`, the rates for base `to`, result.
# The comment gives the exact value before rounding half-to-even.
CONVERSIONS = [
    # 12345 JPY / 161.25 = 76.558139... EUR = 7655.81... cents
    pytest.param(12345, "JPY", "EUR", {"JPY": Decimal("161.25")}, 7656, id="JPY->EUR"),
    # 10.00 EUR / 0.0062 = 1612.903... JPY
    pytest.param(1000, "EUR", "JPY", {"EUR": Decimal("0.0062")}, 1613, id="EUR->JPY"),
    # 100.00 GBP / 0.89 = 112.359550... CHF = 11235.955... centimes
    pytest.param(10000, "GBP", "CHF", {"GBP": Decimal("0.89")}, 11236, id="GBP->CHF"),
    # 10.00 USD / 1.1 = 9.0909... EUR; 1.1 has no exact binary form
    pytest.param(1000, "USD", "EUR", {"USD": Decimal("1.1")}, 909, id="rate-1.1"),
    # 11.55 USD / 1.1 = 10.50 EUR exactly
    pytest.param(1155, "USD", "EUR", {"USD": Decimal("1.1")}, 1050, id="rate-1.1-exact"),
    # 0.07 SEK / 0.1 = 0.70 USD exactly
    pytest.param(7, "SEK", "USD", {"SEK": Decimal("0.1")}, 70, id="rate-0.1"),
    # ties: 0.01 USD / 0.4 = 2.5 cents → 2; 0.03 / 0.4 = 7.5 → 8
    pytest.param(1, "USD", "EUR", {"USD": Decimal("0.4")}, 2, id="tie-down-to-even"),
    pytest.param(3, "USD", "EUR", {"USD": Decimal("0.4")}, 8, id="tie-up-to-even"),
    # 0.11 USD / 0.4 = 27.5 cents → 28; in floats 0.11 / 0.4 * 100 = 27.4999... → 27
    pytest.param(11, "USD", "EUR", {"USD": Decimal("0.4")}, 28, id="exact-vs-float-27.5"),
    # 0.15 USD / 0.4 = 37.5 cents → 38; in floats 37.4999... → 37
    pytest.param(15, "USD", "EUR", {"USD": Decimal("0.4")}, 38, id="exact-vs-float-37.5"),
    # JPY → EUR ties: 4 * 100 / 160 = 2.5 → 2; 12 * 100 / 160 = 7.5 → 8; rate is a JSON int
    pytest.param(4, "JPY", "EUR", {"JPY": 160}, 2, id="JPY-tie-down"),
    pytest.param(12, "JPY", "EUR", {"JPY": 160}, 8, id="JPY-tie-up"),
    # EUR → JPY ties: 0.05 EUR / 0.02 = 2.5 JPY → 2; 0.03 EUR / 0.02 = 1.5 JPY → 2
    pytest.param(5, "EUR", "JPY", {"EUR": Decimal("0.02")}, 2, id="EUR->JPY-tie-down"),
    pytest.param(3, "EUR", "JPY", {"EUR": Decimal("0.02")}, 2, id="EUR->JPY-tie-up"),
    # -0.01 USD / 0.4 = -2.5 cents → -2; -0.03 / 0.4 = -7.5 → -8
    pytest.param(-1, "USD", "EUR", {"USD": Decimal("0.4")}, -2, id="negative-tie-toward-even"),
    pytest.param(-3, "USD", "EUR", {"USD": Decimal("0.4")}, -8, id="negative-tie-away-to-even"),
    # (10**28 + 1) / 0.4 = 2.5 * 10**28 + 2.5 → ...02; 28 significant digits would lose the 2.5
    pytest.param(
        10**28 + 1,
        "USD",
        "EUR",
        {"USD": Decimal("0.4")},
        25_000_000_000_000_000_000_000_000_002,
        id="beyond-decimal-context-precision",
    ),
    # trailing zeros as written don't matter: 0.850 == 0.85; 17.00 GBP / 0.85 = 20.00 EUR
    pytest.param(1700, "GBP", "EUR", {"GBP": Decimal("0.850")}, 2000, id="trailing-zeros"),
    pytest.param(0, "GBP", "EUR", {"GBP": Decimal("0.85")}, 0, id="zero"),
    # the same currency needs no rate and is never rounded
    pytest.param(12345, "EUR", "EUR", {}, 12345, id="same-currency-no-rate"),
    pytest.param(
        12345, "JPY", "JPY", {"JPY": Decimal("2")}, 12345, id="same-currency-ignores-rate"
    ),
]


@pytest.mark.parametrize(("amount", "currency", "to", "rates", "expected"), CONVERSIONS)
def test_convert_minor(
    amount: int, currency: str, to: str, rates: dict[str, Decimal | int], expected: int
) -> None:
    assert convert_minor(amount, currency, to=to, rates=rates) == expected


def test_convert_minor_without_a_rate_raises_missing_rate_error() -> None:
    with pytest.raises(MissingRateError) as caught:
        convert_minor(100, "CHF", to="EUR", rates={"GBP": Decimal("0.85")})

    assert (caught.value.base, caught.value.currency) == ("EUR", "CHF")
    assert str(caught.value) == "no fx rate for CHF in the rates for base EUR"
    assert isinstance(caught.value, LookupError)


def test_convert_minor_refuses_a_float_rate() -> None:
    with pytest.raises(TypeError, match="parse_float=Decimal"):
        convert_minor(100, "GBP", to="EUR", rates={"GBP": 0.85})  # type: ignore[dict-item]


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-0.85"), 0])
def test_convert_minor_refuses_a_rate_that_is_not_positive(rate: Decimal | int) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        convert_minor(100, "GBP", to="EUR", rates={"GBP": rate})


RATES_FOR_EUR: dict[str, Decimal | int] = {
    "GBP": Decimal("0.85"),
    "USD": Decimal("0.4"),
    "JPY": Decimal("160"),
    "CHF": Decimal("0.95"),
}


@pytest.mark.parametrize(
    ("prices", "expected"),
    [
        pytest.param([], 0, id="empty"),
        pytest.param([(1234, "EUR")], 1234, id="one-in-target-currency"),
        # 1700 GBP / 0.85 = 2000; 12000 JPY * 100 / 160 = 7500; 950 CHF / 0.95 = 1000
        pytest.param(
            [(1700, "GBP"), (12000, "JPY"), (950, "CHF"), (50, "EUR")],
            2000 + 7500 + 1000 + 50,
            id="mixed-currencies",
        ),
        # each 0.01 USD is 2.5 cents → 2; rounding the exact sum 5.0 would give 5
        pytest.param([(1, "USD"), (1, "USD")], 4, id="rounds-each-before-summing"),
        # 2.5 → 2 and 7.5 → 8; the exact sum 10.0 happens to agree
        pytest.param([(1, "USD"), (3, "USD")], 10, id="ties-both-ways"),
        # 0.11 USD = 27.5 cents → 28 and 1 JPY = 0.625 cents → 1; the exact sum 28.125 → 28
        pytest.param([(11, "USD"), (1, "JPY")], 29, id="per-item-rounding-up"),
    ],
)
def test_total_minor(prices: list[tuple[int, str]], expected: int) -> None:
    assert total_minor(prices, to="EUR", rates=RATES_FOR_EUR) == expected


def test_total_minor_takes_any_iterable() -> None:
    prices = ((amount, "GBP") for amount in (850, 850))

    assert total_minor(prices, to="EUR", rates=RATES_FOR_EUR) == 2000


def test_total_minor_without_a_rate_raises_missing_rate_error() -> None:
    with pytest.raises(MissingRateError) as caught:
        total_minor([(100, "EUR"), (100, "SEK")], to="EUR", rates=RATES_FOR_EUR)

    assert (caught.value.base, caught.value.currency) == ("EUR", "SEK")


@pytest.mark.parametrize(
    ("currency", "amount", "expected"),
    [
        ("EUR", 123450, "€1,234.50"),
        ("GBP", 5, "£0.05"),
        ("USD", 1200, "$12.00"),
        ("JPY", 12345, "¥12,345"),
        ("CHF", 123450, "CHF 1,234.50"),
        ("SEK", 99900, "SEK 999.00"),
        ("USD", 1, "$0.01"),
        ("USD", 10, "$0.10"),
        ("EUR", 99999, "€999.99"),
        ("EUR", 100000, "€1,000.00"),
        ("EUR", 0, "€0.00"),
        ("JPY", 0, "¥0"),
        ("CHF", 0, "CHF 0.00"),
        ("USD", 123456789012, "$1,234,567,890.12"),
        ("JPY", 1000000000, "¥1,000,000,000"),
        ("SEK", 100000000, "SEK 1,000,000.00"),
        ("EUR", -100, "-€1.00"),
        ("CHF", -100, "-CHF 1.00"),
        ("GBP", -5, "-£0.05"),
        ("JPY", -12345, "-¥12,345"),
        ("USD", -123456789, "-$1,234,567.89"),
    ],
)
def test_format_money(currency: str, amount: int, expected: str) -> None:
    assert format_money(amount, currency) == expected


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**6))
def test_integer_rounding_is_round_of_the_exact_fraction(p: int, q: int) -> None:
    assert _round_half_even(p, q) == round(Fraction(p, q))


@given(
    st.integers(-(10**9), 10**9),
    st.sampled_from(["USD", "JPY", "GBP"]),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=6),
)
def test_conversion_is_the_exact_fraction_rounded_once(
    amount: int, currency: str, rate: Decimal
) -> None:
    exact = Fraction(amount, minor_per(currency)) / Fraction(rate) * 100
    assert convert_minor(amount, currency, to="EUR", rates={currency: rate}) == round(exact)


def minor_per(currency: str) -> int:
    return 1 if currency == "JPY" else 100
