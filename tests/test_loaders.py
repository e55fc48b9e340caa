from __future__ import annotations

from gateway.errors import BackendRejected, BadUserInput, Conflict, NotFound, rejection_to_error
from gateway.loaders import chunked, map_by_id


def test_map_by_id_restores_the_order_asked_and_fills_gaps() -> None:
    items = [{"id": "c", "n": 3}, {"id": "a", "n": 1}]
    assert map_by_id(["a", "b", "c", "a"], items) == [
        {"id": "a", "n": 1},
        None,
        {"id": "c", "n": 3},
        {"id": "a", "n": 1},
    ]
    assert map_by_id([], items) == []


def test_chunks_of_at_most_100_ids() -> None:
    ids = [f"fl-{n}" for n in range(1, 251)]
    chunks = chunked(ids)
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert [i for c in chunks for i in c] == ids
    assert chunked([]) == []


def test_backend_refusals_become_client_errors() -> None:
    def rejected(status: int, message: str = "why") -> BackendRejected:
        return BackendRejected(backend="legacy", status=status, error="x", message=message)

    assert isinstance(rejection_to_error(rejected(422, "end_date before start_date")), BadUserInput)
    assert rejection_to_error(rejected(422, "end_date before start_date")).message == (
        "end_date before start_date"
    )
    assert isinstance(rejection_to_error(rejected(409)), Conflict)
    assert isinstance(rejection_to_error(rejected(404)), NotFound)
