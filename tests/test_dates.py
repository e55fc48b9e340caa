from datetime import date

import pytest

from gateway.dates import format_date_range


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(date(2026, 12, 1), date(2026, 12, 1), "1 Dec 2026", id="one-day"),
        pytest.param(date(2026, 12, 1), date(2026, 12, 5), "1–5 Dec 2026", id="same-month"),
        pytest.param(date(2026, 12, 1), date(2026, 12, 2), "1–2 Dec 2026", id="next-day"),
        pytest.param(date(2026, 1, 1), date(2026, 1, 31), "1–31 Jan 2026", id="whole-month"),
        pytest.param(date(2026, 12, 9), date(2026, 12, 10), "9–10 Dec 2026", id="no-zero-pad"),
        pytest.param(date(2026, 11, 28), date(2026, 12, 3), "28 Nov – 3 Dec 2026", id="same-year"),
        pytest.param(date(2026, 1, 1), date(2026, 12, 31), "1 Jan – 31 Dec 2026", id="whole-year"),
        pytest.param(
            date(2026, 12, 28),
            date(2027, 1, 3),
            "28 Dec 2026 – 3 Jan 2027",
            id="dec-to-jan",
        ),
        pytest.param(
            date(2026, 12, 31), date(2027, 1, 1), "31 Dec 2026 – 1 Jan 2027", id="new-year"
        ),
        pytest.param(
            date(2026, 6, 1), date(2028, 6, 1), "1 Jun 2026 – 1 Jun 2028", id="years-apart"
        ),
        pytest.param(date(2028, 2, 29), date(2028, 2, 29), "29 Feb 2028", id="leap-day"),
        pytest.param(date(2028, 2, 27), date(2028, 2, 29), "27–29 Feb 2028", id="leap-feb"),
        pytest.param(
            date(2028, 2, 28), date(2028, 3, 1), "28 Feb – 1 Mar 2028", id="leap-feb-to-mar"
        ),
        pytest.param(
            date(2027, 2, 28), date(2027, 3, 1), "28 Feb – 1 Mar 2027", id="common-feb-to-mar"
        ),
        pytest.param(
            date(2028, 2, 29),
            date(2029, 2, 28),
            "29 Feb 2028 – 28 Feb 2029",
            id="leap-day-across-years",
        ),
    ],
)
def test_format_date_range(start: date, end: date, expected: str) -> None:
    assert format_date_range(start, end) == expected


def test_every_month_has_its_english_abbreviation() -> None:
    months = [format_date_range(date(2026, m, 1), date(2026, m, 1)) for m in range(1, 13)]

    assert months == [
        "1 Jan 2026",
        "1 Feb 2026",
        "1 Mar 2026",
        "1 Apr 2026",
        "1 May 2026",
        "1 Jun 2026",
        "1 Jul 2026",
        "1 Aug 2026",
        "1 Sep 2026",
        "1 Oct 2026",
        "1 Nov 2026",
        "1 Dec 2026",
    ]


def test_dashes_are_en_dashes() -> None:
    assert format_date_range(date(2026, 12, 1), date(2026, 12, 5))[1] == "\u2013"
    assert format_date_range(date(2026, 11, 28), date(2026, 12, 3)) == "28 Nov \u2013 3 Dec 2026"


def test_end_before_start_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"ends \(2026-12-04\) before it starts \(2026-12-05\)"):
        format_date_range(date(2026, 12, 5), date(2026, 12, 4))
