"""Reproducible benchmarks of the gateway, run by `make bench` (`python -m bench`).

A scenario names what it needs running, what to measure and what it is compared with
(scenarios.py); the runner starts the processes, drives them with wrk and writes
`docs/benchmarks.md` plus the raw figures in `bench-results/latest.json`.
"""
