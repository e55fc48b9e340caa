"""Fixed reference data the seeded generator draws from: places, carriers, brands, FX.

Nothing here is random; `data.py` picks from these tables with a seeded RNG.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENCIES: tuple[str, ...] = ("EUR", "GBP", "USD", "JPY", "CHF")

# Units of each currency per 1 EUR; the seeded FX table and price conversion start here.
EUR_RATES: dict[str, float] = {
    "EUR": 1.0,
    "GBP": 0.8563,
    "USD": 1.0842,
    "JPY": 162.37,
    "CHF": 0.9612,
}

MINOR_UNIT_EXPONENT: dict[str, int] = {"EUR": 2, "GBP": 2, "USD": 2, "JPY": 0, "CHF": 2}


@dataclass(frozen=True, slots=True)
class Place:
    """An airport city: `currency` is the one local prices are quoted in."""

    code: str
    city: str
    country: str
    currency: str


_PLACES_RAW = """
CDG Paris France EUR
AMS Amsterdam Netherlands EUR
FRA Frankfurt Germany EUR
MUC Munich Germany EUR
BER Berlin Germany EUR
MAD Madrid Spain EUR
BCN Barcelona Spain EUR
LIS Lisbon Portugal EUR
OPO Porto Portugal EUR
FCO Rome Italy EUR
MXP Milan Italy EUR
VCE Venice Italy EUR
NAP Naples Italy EUR
ATH Athens Greece EUR
DUB Dublin Ireland EUR
VIE Vienna Austria EUR
BRU Brussels Belgium EUR
HEL Helsinki Finland EUR
NCE Nice France EUR
PMI Palma_de_Mallorca Spain EUR
CPH Copenhagen Denmark EUR
ARN Stockholm Sweden EUR
OSL Oslo Norway EUR
PRG Prague Czechia EUR
BUD Budapest Hungary EUR
KRK Kraków Poland EUR
IST Istanbul Türkiye EUR
RAK Marrakesh Morocco EUR
LHR London United_Kingdom GBP
MAN Manchester United_Kingdom GBP
EDI Edinburgh United_Kingdom GBP
BHX Birmingham United_Kingdom GBP
GLA Glasgow United_Kingdom GBP
JFK New_York United_States USD
SFO San_Francisco United_States USD
LAX Los_Angeles United_States USD
ORD Chicago United_States USD
BOS Boston United_States USD
MIA Miami United_States USD
SEA Seattle United_States USD
HNL Honolulu United_States USD
DEN Denver United_States USD
YYZ Toronto Canada USD
YVR Vancouver Canada USD
MEX Mexico_City Mexico USD
GRU São_Paulo Brazil USD
CPT Cape_Town South_Africa USD
DXB Dubai United_Arab_Emirates USD
SIN Singapore Singapore USD
HKG Hong_Kong China USD
BKK Bangkok Thailand USD
SYD Sydney Australia USD
MEL Melbourne Australia USD
NRT Tokyo Japan JPY
KIX Osaka Japan JPY
CTS Sapporo Japan JPY
FUK Fukuoka Japan JPY
OKA Naha Japan JPY
ZRH Zurich Switzerland CHF
GVA Geneva Switzerland CHF
"""


def _parse_places(raw: str) -> tuple[Place, ...]:
    rows = (line.split() for line in raw.strip().splitlines())
    return tuple(
        Place(code, city.replace("_", " "), country.replace("_", " "), currency)
        for code, city, country, currency in rows
    )


PLACES: tuple[Place, ...] = _parse_places(_PLACES_RAW)
PLACE_BY_CODE: dict[str, Place] = {place.code: place for place in PLACES}

# Where travelers live: several airports per currency so every currency has travelers.
HOME_AIRPORTS: tuple[str, ...] = (
    "CDG", "AMS", "FRA", "MUC", "MAD", "LIS", "FCO", "DUB", "VIE",
    "LHR", "MAN", "EDI",
    "JFK", "SFO", "ORD", "BOS", "SEA",
    "NRT", "KIX",
    "ZRH", "GVA",
)  # fmt: skip

# Carrier code → currency its fares are sold in.
CARRIERS: dict[str, str] = {
    "BA": "GBP",
    "VS": "GBP",
    "U2": "GBP",
    "LH": "EUR",
    "AF": "EUR",
    "KL": "EUR",
    "IB": "EUR",
    "TP": "EUR",
    "UA": "USD",
    "AA": "USD",
    "DL": "USD",
    "EK": "USD",
    "SQ": "USD",
    "JL": "JPY",
    "NH": "JPY",
    "LX": "CHF",
}

CARRIERS_BY_CURRENCY: dict[str, list[str]] = {
    currency: [code for code, sold_in in CARRIERS.items() if sold_in == currency]
    for currency in CURRENCIES
}
PLACE_CODES: tuple[str, ...] = tuple(place.code for place in PLACES)

FIRST_NAMES: tuple[str, ...] = (
    "Ada", "Bruno", "Chloé", "Daniel", "Emma", "Farid", "Grace", "Hiro", "Inès", "Jonas",
    "Keiko", "Liam", "Maria", "Noah", "Olivia", "Pedro", "Quentin", "Rosa", "Sven", "Tomás",
    "Uma", "Viktor", "Wen", "Yuki", "Zoë", "Amara", "Ben", "Carla", "Dev", "Elif",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Lovelace", "Müller", "Dubois", "Smith", "Rossi", "Haddad", "Hopper", "Tanaka", "García",
    "Berg", "Sato", "O'Brien", "Silva", "Jensen", "Brown", "Costa", "Martin", "Fernández",
    "Larsen", "Novák", "Patel", "Ivanov", "Chen", "Suzuki", "Schmidt", "Okafor", "Kowalski",
)  # fmt: skip

HOTEL_BRANDS: tuple[str, ...] = (
    "Grand Hotel", "Hotel Central", "Park Inn", "Harbour House", "The Linden", "Maison Bleue",
    "City Lodge", "Riverside Suites", "Old Town Residence", "Skyline Hotel",
)  # fmt: skip
STREETS: tuple[str, ...] = (
    "Main Street", "Station Road", "Market Square", "Harbour Lane", "Park Avenue",
    "Church Street", "Kingsway", "River Walk",
)  # fmt: skip
ROOM_TYPES: tuple[str, ...] = ("standard double", "twin", "deluxe king", "junior suite", "suite")
CAR_COMPANIES: tuple[str, ...] = ("Hertz", "Avis", "Sixt", "Europcar", "Enterprise")
VEHICLE_CLASSES: tuple[str, ...] = (
    "economy", "compact", "intermediate", "full-size", "SUV", "premium",
)  # fmt: skip
TRIP_KINDS: tuple[str, ...] = (
    "{city} getaway", "Business trip to {city}", "{city} conference", "Weekend in {city}",
    "Family visit, {city}", "{city} offsite", "Holidays in {city}",
)  # fmt: skip
