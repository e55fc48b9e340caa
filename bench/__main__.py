"""`python -m bench [--only a,b] [--duration 10] [--connections 32]`: run the benchmarks,
print the table, write bench-results/latest.json and (for a full run) docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from bench import catalog, machine, report
from bench.results import Result
from bench.runner import run_scenarios
from bench.scenario import Options
from bench.wrk import WrkError, wrk_path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
RAW = ROOT / "bench-results" / "latest.json"
DOC_HEADER = "# Benchmarks\n\nRun with `make bench`; see bench/ for the scenarios.\n"


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    names = ", ".join(scenario.name for scenario in catalog.SCENARIOS)
    parser.add_argument("--only", help=f"comma-separated scenarios out of: {names}")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--cold-start-runs", type=int, default=20, help="fresh processes each")
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="rewrite docs/benchmarks.md after an --only run too (a full run always does);"
        " a scenario with a block of its own (stages) rewrites only that block",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 1 or args.duration > 120:
        parser.error("--duration must be 1..120 s and --warmup at least 1 s")
    if not 1 <= args.connections <= 512:
        parser.error("--connections must be 1..512")
    return args


def command_line(argv: Sequence[str]) -> str:
    return " ".join(["python -m bench", *argv])


def write_outputs(
    results: Sequence[Result], facts: dict[str, str], options: Options, *, argv: Sequence[str]
) -> None:
    RAW.parent.mkdir(exist_ok=True)
    raw = {
        "command": command_line(argv),
        "facts": facts,
        "options": vars(options),
        "results": [result.to_json() for result in results],
    }
    RAW.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")


def write_doc(
    results: Sequence[Result], facts: dict[str, str], *, argv: Sequence[str], full: bool
) -> None:
    document = DOC.read_text(encoding="utf-8") if DOC.exists() else DOC_HEADER
    updated = updated_doc(document, results, facts, command=command_line(argv), full=full)
    DOC.write_text(updated, encoding="utf-8")


def updated_doc(
    document: str,
    results: Sequence[Result],
    facts: Mapping[str, str],
    *,
    command: str,
    full: bool,
) -> str:
    """The results block from the results of the table (always after a full run; after an
    --only run only when some ran), and the own block of each such scenario that ran: so
    `--only stages --write-docs` rewrites the stages block and nothing else."""
    rows = in_table(results)
    if full or rows:
        generated = report.render_generated(
            rows, facts, command=command, comparisons=catalog.COMPARISONS
        )
        document = report.splice(document, generated)
    for result in results:
        if result.name in catalog.OWN_BLOCKS:
            start, end = report.block_markers(result.name)
            block = report.render_block(result, facts, command=command)
            document = report.splice(document, block, start=start, end=end)
    return document


def in_table(results: Sequence[Result]) -> list[Result]:
    return [result for result in results if result.name not in catalog.OWN_BLOCKS]


def print_results(results: Sequence[Result]) -> None:
    rows = in_table(results)
    if rows:
        print(report.render_table(rows))
    for result in results:
        if result.name in catalog.OWN_BLOCKS and result.table is not None:
            print(f"\n{result.title}\n")
            print(report.render_rows(result.table.columns, result.table.rows))


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the Stack, which stops every process


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        wrk_path()
        scenarios = catalog.select(args.only.split(",") if args.only else None)
    except (WrkError, ValueError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    options = Options(
        duration_s=args.duration,
        warmup_s=args.warmup,
        connections=args.connections,
        cold_start_runs=args.cold_start_runs,
    )
    facts = machine.facts()
    facts["settings"] = (
        f"{options.connections} connections, {options.threads} wrk thread, "
        f"{options.warmup_s:g} s warm-up + {options.duration_s:g} s per load run, "
        "stub latency 0 ms, loopback"
    )
    results = run_scenarios(scenarios, options)
    facts["load average after the run"] = machine.load_average()
    write_outputs(results, facts, options, argv=argv)
    print_results(results)
    if not args.only or args.write_docs:
        write_doc(results, facts, argv=argv, full=not args.only)
        print(f"\nwrote {DOC.relative_to(ROOT)} and {RAW.relative_to(ROOT)}")
    else:
        print(f"\nwrote {RAW.relative_to(ROOT)} (docs unchanged: --only without --write-docs)")
    return 1 if any(result.status == "failed" for result in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
