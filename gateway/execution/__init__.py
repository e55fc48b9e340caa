"""The planner: an operation planned once, run many times, answered exactly as strawberry would.

`collect` merges fields the way graphql-core does (aliases, fragments, @skip/@include),
`scalars` serialises leaves with the schema's own scalars, `plan` compiles an operation
against `gateway.resolvers` declarations, `run` executes a plan breadth-first (one batch per
relation per level), and `planner.Planner` caches plans and decides when strawberry answers
instead.
"""
