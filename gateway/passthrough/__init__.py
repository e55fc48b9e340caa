"""REST passthrough: old clients keep calling `/api/...`; routes.yaml picks the backend and
the contract's access rules decide who may call what. See `proxy.py`."""

from gateway.passthrough.proxy import Passthrough, PassthroughMiddleware

__all__ = ["Passthrough", "PassthroughMiddleware"]
