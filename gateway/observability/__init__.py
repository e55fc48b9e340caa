"""Logs, metrics and traces (docs/operations.md, "Logs, metrics and traces").

`hooks` is what the backend client and the route stats call; `middleware` is the outermost
ASGI layer; `sinks` turns the numbers into Prometheus text or CloudWatch EMF lines. Nothing
is imported here, so the backend client can import `hooks` without pulling in the rest.
"""
