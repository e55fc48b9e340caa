"""How each field resolves, declared once, per domain, over the backends' entity dicts.

A field is one of (see `fields`): a `Read` of the entity (`flight_number`), a `Compute`, a
pure function of it (`nights`, `dates`, `formatted`), or a `Load`: a relation or root entry
point resolved for every parent of one level at once (`flights` of twenty trips is one
batch). Both strawberry schemas resolve from these declarations (`gateway.schemas.declared`
attaches a resolver per field; the strawberry classes only give the GraphQL shape), and
the planner (`gateway.execution`) runs the same declarations breadth-first, so the two
executors cannot disagree about what a field is.
"""
