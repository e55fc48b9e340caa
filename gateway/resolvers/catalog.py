"""Which declarations make up each client schema, by GraphQL type name ("Query" and
"Mutation" for the root types).

Both the strawberry schema (`gateway.schemas.declared`) and the planner resolve from these.
A field with its own strawberry resolver and no declaration here keeps that resolver; the
planner does not cover it (nor a type missing here): such operations run on strawberry.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.resolvers import bookings, destinations, itinerary, money, travelers, trips
from gateway.resolvers.fields import TypeFields

Catalog = Mapping[str, TypeFields]

WEB: Catalog = {
    "Query": {**travelers.ROOTS, **trips.ROOTS, **destinations.ROOTS},
    "Mutation": trips.MUTATIONS,
    "Traveler": trips.TRAVELER,
    "TripPage": trips.PAGE,
    "Trip": trips.TRIP,
    "Flight": bookings.FLIGHT,
    "HotelStay": bookings.HOTEL_STAY,
    "Hotel": bookings.HOTEL,
    "CarRental": bookings.CAR_RENTAL,
    "Money": money.MONEY,
    "Destination": destinations.DESTINATION,
}

MOBILE: Catalog = {
    "Query": {**trips.ROOTS, **itinerary.ROOTS, **destinations.ROOTS},
    "Mutation": {"cancel_trip": trips.CANCEL_TRIP},
    "TripCardPage": trips.PAGE,
    "TripCard": itinerary.TRIP_CARD,
    "Itinerary": itinerary.ITINERARY,
    "Segment": itinerary.SEGMENT,
    "Money": money.MOBILE_MONEY,
    "DestinationCard": destinations.DESTINATION,
}

CATALOGS: Mapping[str, Catalog] = {"web": WEB, "mobile": MOBILE}
