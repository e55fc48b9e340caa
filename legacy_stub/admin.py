"""The stub's own admin API under `/_stub/` (never routed through the gateway)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from legacy_stub.errors import InvalidError
from legacy_stub.faults import Fault
from legacy_stub.instrument import Instrument
from legacy_stub.params import parse_after
from legacy_stub.responses import JsonResponse, read_json
from legacy_stub.store import Store


class StubAdmin:
    def __init__(self, store: Store, instrument: Instrument) -> None:
        self.store = store
        self.instrument = instrument

    def routes(self) -> list[Route]:
        return [
            Route("/_stub/stats", self.stats, methods=["GET"]),
            Route("/_stub/reset", self.reset, methods=["POST"]),
            Route("/_stub/faults", self.faults, methods=["GET"]),
            Route("/_stub/faults", self.add_fault, methods=["POST"]),
            Route("/_stub/events", self.events, methods=["GET"]),
            Route("/_stub/patch", self.patch, methods=["POST"]),
        ]

    async def stats(self, request: Request) -> Response:
        return JsonResponse(self.instrument.stats.to_json())

    async def reset(self, request: Request) -> Response:
        self.instrument.stats.reset()
        self.instrument.faults.clear()
        return JsonResponse({**self.instrument.stats.to_json(), "faults": []})

    async def faults(self, request: Request) -> Response:
        return JsonResponse({"faults": self.instrument.faults.to_json()})

    async def add_fault(self, request: Request) -> Response:
        self.instrument.faults.set(Fault.from_json(await read_json(request)))
        return JsonResponse({"faults": self.instrument.faults.to_json()})

    async def events(self, request: Request) -> Response:
        after = parse_after(request.query_params.get("after"))
        events = self.store.events_after(after)
        return JsonResponse({"events": events, "last_seq": len(self.store.events)})

    async def patch(self, request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise InvalidError('the body must be {"id": "<entity id>", "fields": {...}}')
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise InvalidError("fields must be a JSON object of field → new value")
        return JsonResponse(self.store.patch(body["id"], fields))
