"""The legacy monolith stand-in, as an ASGI app (`legacy_stub.app:app`).

Serves every endpoint of /work/shared/contract/legacy-api.md from a seeded dataset, plus the
admin API under `/_stub/`:

    GET  /_stub/stats          {"requests": {"GET /api/flights/{id}": 3, ...}, "total": N}
                               (/api requests per method + route template since the reset;
                               faulted and hung requests count too)
    POST /_stub/reset          zero the counts, clear every fault; data stays
    GET  /_stub/faults         {"faults": [...]} as set now
    POST /_stub/faults         {"path_prefix": "/api/flights", "latency_ms": 0,
                               "error_rate": 0.0, "status": 503, "hang": false}; one fault
                               per prefix (a new one replaces it, an all-default one clears
                               it); a request gets the longest matching prefix
    GET  /_stub/events?after=N {"events": [{"seq", "type", "id", "traveler_id", "at"}],
                               "last_seq": N}
    POST /_stub/patch          {"id": "fl-1", "fields": {"seat": "99Z"}}: overwrite fields of
                               one entity of any kind in place (to make backends disagree)
                               → 200 and the patched entity

Configured from the environment at import (see `legacy_stub.settings`): STUB_SEED,
STUB_TRAVELERS, STUB_TRIPS, STUB_LATENCY_MS.
"""

from __future__ import annotations

import os

from legacy_stub.factory import create_app, create_app_from_env

__all__ = ["app", "create_app", "create_app_from_env"]

app = create_app_from_env(os.environ)
