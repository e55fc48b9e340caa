from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.segments import (
    Segment,
    SegmentKind,
    build_segments,
    car_segment,
    flight_segment,
    stay_nights,
    stay_segment,
)

CET = timezone(timedelta(hours=1))
EST = timezone(timedelta(hours=-5))


def flight(**fields: Any) -> dict[str, Any]:
    return {
        "id": "fl-1",
        "carrier": "BA",
        "flight_number": "BA117",
        "origin": "LHR",
        "destination": "JFK",
        "departs_at": "2026-12-01T08:30:00+00:00",
        "arrives_at": "2026-12-01T11:40:00-05:00",
        "cabin": "economy",
        "seat": None,
        "status": "scheduled",
        "price": {"amount": 45000, "currency": "GBP"},
        **fields,
    }


def stay(**fields: Any) -> dict[str, Any]:
    return {
        "id": "hs-1",
        "hotel": {
            "id": "h-1",
            "name": "The Standard",
            "city": "New York",
            "stars": 4,
            "address": "848 Washington St",
        },
        "check_in": "2026-12-01",
        "check_out": "2026-12-05",
        "room_type": "double",
        "price": {"amount": 98000, "currency": "USD"},
        **fields,
    }


def car(**fields: Any) -> dict[str, Any]:
    return {
        "id": "cr-1",
        "company": "Hertz",
        "pickup_location": "JFK",
        "dropoff_location": "JFK",
        "pickup_at": "2026-12-01T13:00:00-05:00",
        "dropoff_at": "2026-12-05T09:00:00-05:00",
        "vehicle_class": "compact",
        "price": {"amount": 21000, "currency": "USD"},
        **fields,
    }


def test_segment_kinds_in_tie_break_order() -> None:
    assert [(kind.name, kind.value) for kind in SegmentKind] == [
        ("FLIGHT", "FLIGHT"),
        ("STAY", "STAY"),
        ("CAR", "CAR"),
    ]


def test_flight_segment() -> None:
    assert flight_segment(flight()) == Segment(
        kind=SegmentKind.FLIGHT,
        starts_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC),
        ends_at=datetime(2026, 12, 1, 11, 40, tzinfo=EST),
        title="BA117 LHR → JFK",
    )


def test_flight_segment_keeps_each_timestamps_offset() -> None:
    segment = flight_segment(flight())

    assert (segment.starts_at.utcoffset(), segment.ends_at.utcoffset()) == (
        timedelta(0),
        timedelta(hours=-5),
    )


def test_stay_segment_runs_from_15_utc_on_check_in_to_11_utc_on_check_out() -> None:
    assert stay_segment(stay()) == Segment(
        kind=SegmentKind.STAY,
        starts_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
        ends_at=datetime(2026, 12, 5, 11, 0, tzinfo=UTC),
        title="The Standard",
    )


def test_stay_segment_times_are_utc() -> None:
    segment = stay_segment(stay())

    assert segment.starts_at.isoformat() == "2026-12-01T15:00:00+00:00"
    assert segment.ends_at.isoformat() == "2026-12-05T11:00:00+00:00"


def test_car_segment() -> None:
    assert car_segment(car()) == Segment(
        kind=SegmentKind.CAR,
        starts_at=datetime(2026, 12, 1, 13, 0, tzinfo=EST),
        ends_at=datetime(2026, 12, 5, 9, 0, tzinfo=EST),
        title="Hertz, compact",
    )


def test_segment_is_frozen() -> None:
    segment = car_segment(car())

    with pytest.raises(AttributeError):
        segment.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("departs_at", "2026-12-01T08:30:00", id="no-offset"),
        pytest.param("departs_at", "2026-12-01", id="date-only"),
    ],
)
def test_timestamp_without_offset_is_an_error(field: str, value: str) -> None:
    with pytest.raises(ValueError, match="has no UTC offset"):
        flight_segment(flight(**{field: value}))


def test_timestamp_with_z_is_utc() -> None:
    segment = car_segment(car(pickup_at="2026-12-01T18:00:00Z"))

    assert segment.starts_at == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def test_field_that_is_not_a_string_is_an_error() -> None:
    with pytest.raises(ValueError, match="expected a string at 'flight_number', got 117"):
        flight_segment(flight(flight_number=117))


def test_hotel_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(ValueError, match="expected an object at 'hotel'"):
        stay_segment(stay(hotel="The Standard"))


def titles(segments: list[Segment]) -> list[str]:
    return [segment.title for segment in segments]


def test_build_segments_of_nothing() -> None:
    assert build_segments([], [], []) == []


def test_build_segments_sorts_by_start() -> None:
    segments = build_segments(
        flights=[
            flight(
                flight_number="BA112",
                origin="JFK",
                destination="LHR",
                departs_at="2026-12-05T18:00:00-05:00",
                arrives_at="2026-12-06T06:10:00+00:00",
            ),
            flight(),
        ],
        stays=[stay()],
        cars=[car()],
    )

    assert [(segment.title, segment.starts_at) for segment in segments] == [
        ("BA117 LHR → JFK", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("The Standard", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        ("Hertz, compact", datetime(2026, 12, 1, 13, 0, tzinfo=EST)),  # 18:00 UTC
        ("BA112 JFK → LHR", datetime(2026, 12, 5, 18, 0, tzinfo=EST)),
    ]


def test_build_segments_compares_instants_not_wall_clocks() -> None:
    # 09:00 at +01:00 is 08:00 UTC, before 08:30 UTC; 06:00 at -05:00 is 11:00 UTC, after it.
    segments = build_segments(
        flights=[flight(flight_number="LH1", departs_at="2026-12-01T09:00:00+01:00")],
        stays=[],
        cars=[
            car(company="Avis", pickup_at="2026-12-01T08:30:00+00:00"),
            car(company="Sixt", pickup_at="2026-12-01T06:00:00-05:00"),
        ],
    )

    assert titles(segments) == ["LH1 LHR → JFK", "Avis, compact", "Sixt, compact"]
    assert segments[0].starts_at.utcoffset() == timedelta(hours=1)


def test_build_segments_breaks_ties_by_kind_flight_stay_car() -> None:
    # All three start at 15:00 UTC on 1 Dec, each written with a different offset.
    segments = build_segments(
        flights=[flight(departs_at="2026-12-01T16:00:00+01:00")],
        stays=[stay()],
        cars=[car(pickup_at="2026-12-01T10:00:00-05:00")],
    )

    assert [segment.kind for segment in segments] == [
        SegmentKind.FLIGHT,
        SegmentKind.STAY,
        SegmentKind.CAR,
    ]


def test_build_segments_breaks_ties_by_kind_whatever_the_input_order() -> None:
    segments = build_segments(
        flights=[flight(departs_at="2026-12-01T15:00:00+00:00")],
        stays=[stay()],
        cars=[car(pickup_at="2026-12-01T15:00:00Z")],
    )
    reversed_kinds = build_segments(
        cars=[car(pickup_at="2026-12-01T15:00:00Z")],
        stays=[stay()],
        flights=[flight(departs_at="2026-12-01T15:00:00+00:00")],
    )

    assert segments == reversed_kinds
    assert titles(segments) == ["BA117 LHR → JFK", "The Standard", "Hertz, compact"]


def test_build_segments_keeps_input_order_within_a_kind_on_equal_starts() -> None:
    segments = build_segments(
        flights=[],
        stays=[],
        cars=[
            car(company="Sixt", pickup_at="2026-12-01T16:00:00+01:00"),
            car(company="Avis", pickup_at="2026-12-01T15:00:00+00:00"),
            car(company="Hertz", pickup_at="2026-12-01T10:00:00-05:00"),
        ],
    )

    assert titles(segments) == ["Sixt, compact", "Avis, compact", "Hertz, compact"]


def test_build_segments_takes_any_iterables() -> None:
    segments = build_segments(
        flights=(f for f in [flight()]),
        stays=iter([stay()]),
        cars=(car(),),
    )

    assert [segment.kind for segment in segments] == [
        SegmentKind.FLIGHT,
        SegmentKind.STAY,
        SegmentKind.CAR,
    ]


@pytest.mark.parametrize(
    ("check_in", "check_out", "nights"),
    [
        pytest.param("2026-12-01", "2026-12-05", 4, id="four"),
        pytest.param("2026-12-01", "2026-12-02", 1, id="one"),
        pytest.param("2026-12-01", "2026-12-01", 0, id="same-day"),
        pytest.param("2026-12-30", "2027-01-02", 3, id="across-years"),
        pytest.param("2028-02-28", "2028-03-01", 2, id="leap-february"),
        pytest.param("2027-02-28", "2027-03-01", 1, id="common-february"),
    ],
)
def test_stay_nights(check_in: str, check_out: str, nights: int) -> None:
    assert stay_nights(stay(check_in=check_in, check_out=check_out)) == nights
