"""Per-caller rate limits: a token bucket (`bucket.py`, pure), kept in Redis by one Lua
script (`redis_store.py`) or in this process (`local_store.py`), chosen and fallen back on by
`limiter.py`, applied at the door by `middleware.py`. Nothing is imported here, so that
`gateway.config` can use `bucket.Rate` without pulling in Redis or the app."""
