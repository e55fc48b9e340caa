"""Cases this suite found where the planned gateway answered differently, each minimal and
with the fault it needs. They run as their own tests, apart from the generated ones, so
that while one fails the generated cases still run.

All are one kind so far: after the planned run gives up, the reference run reuses the
loads that already settled (failures included), so errors arrive sooner than in a fresh
reference run. The order of `errors` changes, and when a non-null root field nulls `data`
a different or an extra error is reported.
"""

from __future__ import annotations

from typing import Any

from legacy_stub.data import build_dataset
from tests.differential.domain import OTHER, OWN, trips_of
from tests.differential.regressions import OWN_TRIP
from tests.differential.strategies import Case

THEIR_TRIP = str(trips_of(build_dataset(), OTHER)[0]["id"])

# The errors of two failing `trips` come in the other order.
ERROR_ORDER_AFTER_FALLBACK = Case(
    "web",
    f"""{{
  me {{ id }}
  trip(id: "{OWN_TRIP}") {{ traveler {{ trips(after: "bad") {{ nextCursor }} }} }}
  traveler(id: "{OWN}") {{ trips(after: "bad") {{ nextCursor }} }}
}}""",
    {},
    None,
    "agent",
)

# With /api/destinations failing, two non-null root fields fail and the first error to
# arrive nulls `data`: the reference's is FORBIDDEN, the fallback's was the reused
# BACKEND_UNAVAILABLE (fixed in dc617e2).
FAILING_AND_FORBIDDEN = Case(
    "web",
    f'{{ topDestinations(limit: 4) {{ name }} trips(travelerId: "{OTHER}") {{ nextCursor }} }}',
    {},
    None,
    f"traveler:{OWN}",
)

# `myTrips` fails and nulls `data`; the reference reports only that
# error, the fallback also the FORBIDDEN of `itinerary` (its trip load had already settled).
ONE_ERROR_OR_TWO = Case(
    "mobile",
    f"""{{
  itinerary(tripId: "{THEIR_TRIP}") {{ status }}
  myTrips(after: "bad") {{ nextCursor }}
}}""",
    {},
    None,
    f"traveler:{OWN}",
)

# With every backend failing: `myTrips` fails and nulls `data`; the
# reference reports that error only, the fallback also the one of `itinerary`.
EVERYTHING_FAILING = Case(
    "mobile",
    f"""{{
  itinerary(tripId: "{OWN_TRIP}") {{ segments {{ kind }} }}
  myTrips(first: 1) {{ nextCursor }}
}}""",
    {},
    None,
    "agent",
)
ALL_FAILING = {"path_prefix": "/api/", "error_rate": 1.0, "status": 503}
DESTINATIONS_FAILING = {"path_prefix": "/api/destinations", "error_rate": 1.0, "status": 502}

# What this suite found, each with the fault it needs: kept apart from the generated tests
# so that, while one fails, the generated cases still run.
FOUND: tuple[tuple[str, Case, dict[str, Any] | None], ...] = (
    ("error-order-after-fallback", ERROR_ORDER_AFTER_FALLBACK, None),
    ("failing-and-forbidden", FAILING_AND_FORBIDDEN, DESTINATIONS_FAILING),
    ("one-error-or-two", ONE_ERROR_OR_TWO, None),
    ("everything-failing", EVERYTHING_FAILING, ALL_FAILING),
)
