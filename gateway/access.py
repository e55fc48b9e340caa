"""Who may read and change what: every access decision of the gateway, as pure functions.

A traveler may read and change only their own traveler record and trips; an agent anyone's.
Without a valid token only public data answers.
"""

from __future__ import annotations

from gateway.auth import Identity
from gateway.errors import BadUserInput, Forbidden, Unauthenticated


def require_signed_in(identity: Identity) -> str:
    """The caller's traveler id, or UNAUTHENTICATED (with why a presented token was refused)."""
    if not identity.authenticated or identity.traveler_id is None:
        raise Unauthenticated(identity.refusal)
    return identity.traveler_id


def may_access_traveler(identity: Identity, traveler_id: str) -> bool:
    return identity.authenticated and (identity.is_agent or identity.traveler_id == traveler_id)


def check_traveler(identity: Identity, traveler_id: str) -> None:
    """Allow the caller to read or change `traveler_id`'s record and trips, or raise."""
    require_signed_in(identity)
    if not may_access_traveler(identity, traveler_id):
        raise Forbidden(f"traveler {traveler_id}'s data")


def check_first(first: int) -> int:
    if not 1 <= first <= 100:
        raise BadUserInput(f"`first` must be between 1 and 100, got {first}.")
    return first


def check_limit(limit: int, *, maximum: int = 50) -> int:
    if not 1 <= limit <= maximum:
        raise BadUserInput(f"`limit` must be between 1 and {maximum}, got {limit}.")
    return limit
