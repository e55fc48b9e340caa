"""The benchmark harness's pure parts: percentiles, targets, the report, wrk's script and
summary; and its baselines: the hand-written BFF answers the gateway's bytes (real processes).
No timing is asserted here; `make bench` measures."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import jwt
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from bench import catalog, report
from bench.__main__ import updated_doc
from bench.fixtures import (
    MOBILE_ITINERARY,
    ROTATION,
    WEB_TRIPS,
    canaried,
    choose_rotation,
    mobile_itinerary_rotation,
    public_variant_bodies,
    reset_stub,
    rotation,
    route_of_flights_batch,
    same_bytes_note,
    stub_stats,
    web_trips_rotation,
)
from bench.l2 import answer_key_of, l1_capacity, redis_note, variant_count
from bench.load import LoadScenario, as_requests, probe_problem, tally, x_cache_note
from bench.micro import StagesScenario
from bench.minimal_proxy import kept
from bench.request import HttpRequest
from bench.results import Result, Table, Target, with_ratios
from bench.scenario import Options
from bench.services import Stack
from bench.stages import STAGES
from bench.stats import median, percentile, ratio
from bench.wrk import (
    WrkError,
    lua_cycle_script,
    lua_script,
    lua_string,
    parse_summary,
    request_line,
    run_wrk,
    write_requests,
)
from gateway.auth import issue_dev_token
from gateway.cache.setup import CacheConfig
from legacy_stub.data import Dataset, build_dataset


def test_percentile_interpolates_between_closest_ranks() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]
    assert [percentile(samples, q) for q in (0, 25, 50, 100)] == [1.0, 1.75, 2.5, 4.0]
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(range(101)), 99) == 99
    assert median([3.0, 1.0, 2.0]) == 2.0


@pytest.mark.parametrize(("samples", "q"), [([], 50), ([1.0], -1), ([1.0], 101)])
def test_percentile_refuses_what_has_no_answer(samples: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        percentile(samples, q)


def test_ratio_is_none_without_both_sides() -> None:
    assert (ratio(40, 100), ratio(None, 100), ratio(40, None), ratio(40, 0)) == (
        0.4,
        None,
        None,
        None,
    )


def test_ratios_come_from_the_baseline_of_the_same_run() -> None:
    results = with_ratios(
        [
            Result("c", "baseline", rps=200.0),
            Result("a", "gateway", rps=50.0, baseline="c"),
            Result("x", "own ratio", ratio=1.2, baseline="c"),
            Result("y", "baseline did not run", rps=5.0, baseline="z"),
        ]
    )
    assert [result.ratio for result in results] == [None, 0.25, 1.2, None]


def test_verdict_names_the_missed_targets() -> None:
    targets = (Target("ratio", ">=", 0.35), Target("backend_requests", "==", 6))
    met = Result("a", "t", ratio=0.4, backend_requests=6, targets=targets)
    slow = Result("a", "t", ratio=0.1, backend_requests=6, targets=targets)
    chatty = Result("a", "t", ratio=0.1, backend_requests=7, targets=targets)
    unmeasured = Result("a", "t", backend_requests=6, targets=targets)
    assert [r.verdict() for r in (met, slow, chatty, unmeasured)] == [
        "yes",
        "no (ratio)",
        "no (ratio, backend_requests)",
        "n/a",
    ]
    assert Result("c", "t").verdict() == "—"
    assert [t.label() for t in (*targets, Target("p50_s", "<=", 50e-6))] == [
        "ratio ≥ 0.35",
        "backend req/query = 6",
        "p50 ≤ 50 µs",
    ]


def test_durations_and_rates_are_formatted_for_people() -> None:
    assert [report.format_duration(s) for s in (3.14e-6, 0.0124, 1.5, None)] == [
        "3.1 µs",
        "12.4 ms",
        "1.50 s",
        "—",
    ]
    assert (report.format_rps(1234.5), report.format_rps(None)) == ("1,234", "—")


def test_table_has_one_row_per_result_with_ratio_backend_and_verdict() -> None:
    targets = (Target("ratio", ">=", 0.35), Target("backend_requests", "==", 6))
    results = with_ratios(
        [
            Result("c", "bare | endpoint", rps=1000.0, p50_s=0.002, p99_s=0.01),
            Result(
                "a",
                "trips",
                rps=400.0,
                p50_s=0.05,
                p99_s=0.2,
                baseline="c",
                backend_requests=6,
                backend_per_request_under_load=6.0,
                targets=targets,
            ),
            Result("p", "passthrough", status="not available", targets=(targets[0],)),
        ]
    )
    assert report.render_table(results).splitlines() == [
        "| scenario | req/s | p50 | p99 | ratio to baseline | backend req/query | target | met? |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        "| **c** bare \\| endpoint | 1,000 | 2.0 ms | 10.0 ms | — | — | — | — |",
        "| **a** trips | 400 | 50.0 ms | 200.0 ms | 0.40 × c | 6 (6.00 under load)"
        " | ratio ≥ 0.35; backend req/query = 6 | yes |",
        "| **p** passthrough | not available | — | — | — | — | ratio ≥ 0.35 | n/a |",
    ]


def test_comparisons_need_both_sides() -> None:
    results = [Result("a", "t", rps=300.0), Result("h", "t", rps=100.0), Result("b", "t")]
    pairs = [("a", "h", "aiohttp over httpcore"), ("b", "a", "b has no rate")]
    assert (
        report.render_comparisons(results, pairs) == "- a / h: 3.00× req/s (aiohttp over httpcore)"
    )


def test_splice_replaces_only_the_generated_block() -> None:
    document = f"# Title\n\nprose\n\n{report.START}\nold table\n{report.END}\n\nreading\n"
    generated = f"{report.START}\nnew table\n{report.END}"
    assert report.splice(document, generated) == (
        f"# Title\n\nprose\n\n{report.START}\nnew table\n{report.END}\n\nreading\n"
    )
    assert report.splice("# Title\n", generated) == f"# Title\n\n{generated}\n"


def test_the_stage_scenario_gives_a_figure_for_every_stage_of_both_operations() -> None:
    """Runs the real stages on a few calls each; the figures are numbers, never judged here."""
    with Stack() as stack:  # nothing started: the scenario needs no service
        result = StagesScenario(repeats=1, scale=0.01).run(stack, Options())
    assert result.status == "ok" and result.table is not None
    assert result.table.columns == (
        "stage",
        "(a) web trips(first: 20) (µs)",
        "(b) mobile itinerary (µs)",
    )
    assert [row[0] for row in result.table.rows] == list(STAGES)
    for row in result.table.rows:
        assert all(float(cell.replace(",", "")) >= 0 for cell in row[1:])
    assert {op: d["backend_requests"] for op, d in result.details.items()} == {
        "(a) web trips(first: 20)": 6,
        "(b) mobile itinerary": 6,
    }


def test_an_only_run_of_an_own_block_scenario_rewrites_that_block_alone() -> None:
    start, end = report.block_markers("stages")
    document = f"# B\n\n{report.START}\nold results\n{report.END}\n\n{start}\nold stages\n{end}\n"
    stages = Result(
        "stages", "per stage", table=Table(("stage", "(a) (µs)"), (("parse", "1.0"),)), note="n"
    )
    facts = {"date": "today", "commit": "abc1234"}
    updated = updated_doc(document, [stages], facts, command="python -m bench", full=False)
    block = "\n".join(
        [
            start,
            "Latest run: `python -m bench` (today, abc1234)",
            "",
            "**stages** per stage",
            "",
            "| stage | (a) (µs) |",
            "| --- | --- |",
            "| parse | 1.0 |",
            "",
            "n",
            end,
        ]
    )
    assert updated == f"# B\n\n{report.START}\nold results\n{report.END}\n\n{block}\n"
    with_a_row = updated_doc(
        document, [Result("a", "t"), stages], facts, command="python -m bench", full=False
    )
    assert "old results" not in with_a_row and "| **a** t |" in with_a_row
    assert "**stages**" not in with_a_row.split(report.END)[0]  # not a row of the table


def test_lua_strings_hold_any_text_verbatim() -> None:
    assert lua_string("plain") == "[[plain]]"
    assert lua_string("a]]b") == "[=[a]]b]=]"
    assert lua_string("a]]b]=]c") == "[==[a]]b]=]c]==]"
    assert lua_string("\nfirst line") == "[[\n\nfirst line]]"


def test_lua_script_sets_method_headers_and_body() -> None:
    request = HttpRequest.graphql("/graphql/web", "{ a }", token="tok")
    lines = lua_script(request).splitlines()
    assert lines[:5] == [
        "MARK = [[BENCH_JSON ]]",
        "wrk.method = [[POST]]",
        "wrk.headers[ [[Content-Type]] ] = [[application/json]]",
        "wrk.headers[ [[Authorization]] ] = [[Bearer tok]]",
        'wrk.body = [[{"query": "{ a }", "variables": {}}]]',
    ]
    assert "done = function(summary, latency, requests)" in lines


def test_wrk_summary_is_read_from_the_done_hook_line() -> None:
    stdout = (
        "Running 10s test @ http://127.0.0.1:1/x\n"
        'BENCH_JSON {"requests":2000,"duration_us":10000000,"bytes":4000,'
        '"errors":{"connect":0,"read":0,"write":0,"status":3,"timeout":0},'
        '"latency_us":{"p50":1500,"p90":2500,"p99":9000,"max":12000,"mean":1700.5}}\n'
    )
    summary = parse_summary(stdout)
    assert (summary.rps, summary.p50_s, summary.p99_s, summary.error_count) == (
        200.0,
        0.0015,
        0.009,
        3,
    )
    with pytest.raises(WrkError):
        parse_summary("Running 10s test\n", "script error")


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """The dataset the bench's stub serves (default seed and sizes)."""
    return build_dataset()


def test_rotation_is_many_travelers_each_with_a_full_trip_of_their_own(dataset: Dataset) -> None:
    picks = choose_rotation(dataset, ROTATION)
    assert picks[0].traveler == "t-1"  # 40 trips: (a)'s full page of 20, as before
    assert len({pick.traveler for pick in picks}) == len({pick.trip for pick in picks}) == 64
    for pick in picks:
        trip = dataset.trips[pick.trip]
        assert trip["traveler_id"] == pick.traveler
        bookings = [
            *(dataset.flights[i] for i in trip["flight_ids"]),
            *(dataset.hotel_stays[i] for i in trip["hotel_stay_ids"]),
            *(dataset.car_rentals[i] for i in trip["car_rental_ids"]),
        ]
        assert trip["flight_ids"] and trip["hotel_stay_ids"] and trip["car_rental_ids"]
        currency = dataset.travelers[pick.traveler]["currency"]
        assert any(b["price"]["currency"] != currency for b in bookings), pick  # fx needed
    with pytest.raises(LookupError):
        choose_rotation(dataset, len(dataset.travelers) + 1)


def test_rotations_send_each_traveler_their_own_token_and_variables() -> None:
    with Stack() as stack:
        picks = rotation(stack)
        web, mobile = web_trips_rotation(stack), mobile_itinerary_rotation(stack)
        scenarios = {s.name: s for s in catalog.SCENARIOS if isinstance(s, LoadScenario)}
        sent = {name: as_requests(scenarios[name].request(stack)) for name in ("a", "b")}
        sent |= {name: as_requests(scenarios[name].request(stack)) for name in ("c", "bff-a")}
        sent["bff-b"] = as_requests(scenarios["bff-b"].request(stack))
        secret = stack.secret
    assert (sent["a"], sent["b"]) == (web, mobile)
    for requests, query, variable, expected in (
        (web, WEB_TRIPS, "traveler", [pick.traveler for pick in picks]),
        (mobile, MOBILE_ITINERARY, "trip", [pick.trip for pick in picks]),
    ):
        bodies = [json.loads(request.body or b"") for request in requests]
        assert [body["variables"][variable] for body in bodies] == expected
        assert {body["query"] for body in bodies} == {query}
        bearers = [request.headers["Authorization"].removeprefix("Bearer ") for request in requests]
        subjects = [jwt.decode(t, secret, algorithms=["HS256"])["sub"] for t in bearers]
        assert subjects == [pick.traveler for pick in picks]
    # The baseline and the hand-written BFF are sent the very same requests, in the same order.
    for name, gateway, path in (("c", web, "/answer"), ("bff-a", web, "/web/trips")):
        assert [(r.path, r.headers, r.body) for r in sent[name]] == [
            (path, r.headers, r.body) for r in gateway
        ]
    assert [(r.headers, r.body) for r in sent["bff-b"]] == [(r.headers, r.body) for r in mobile]
    assert {r.path for r in sent["bff-b"]} == {"/mobile/itinerary"}


def test_probe_problems_say_why_a_scenario_is_not_loaded() -> None:
    assert probe_problem(httpx.Response(200, json={"data": {"a": 1}})) is None
    assert probe_problem(httpx.Response(404)) == "404 (not served yet)"
    assert probe_problem(httpx.Response(500, text="boom")) == "HTTP 500: boom"
    assert probe_problem(httpx.Response(200, json={"errors": [{"message": "x"}]})) == (
        "GraphQL errors: [{'message': 'x'}]"
    )


def test_scenarios_are_selected_by_name_in_catalog_order() -> None:
    assert [s.name for s in catalog.select(["b", "a"])] == ["a", "b"]
    assert len(catalog.select(None)) == len(catalog.SCENARIOS)
    with pytest.raises(ValueError, match="unknown scenario"):
        catalog.select(["nope"])


def test_backend_column_adds_the_figure_over_the_run_when_measured() -> None:
    cold = Result("t", "t", backend_requests=6, backend_per_request_under_load=2.375)
    warm = Result(
        "w",
        "t",
        backend_requests=0,
        backend_per_request_under_load=0.0,
        backend_per_request_over_run=0.021,
    )
    assert report.format_backend(cold) == "6 (2.38 under load)"
    assert report.format_backend(warm) == "0 (0.00 under load, 0.02 over the run)"
    assert report.format_backend(Result("r", "t", backend_requests=1)) == "1"


def test_cycle_script_sends_the_requests_in_turn_from_the_start_position() -> None:
    script = lua_cycle_script(Path("/tmp/requests.txt"), start=42)
    lines = script.splitlines()
    assert lines[:3] == ["MARK = [[BENCH_JSON ]]", "", "REQUESTS = [[/tmp/requests.txt]]"]
    assert "START = 42" in lines
    assert "    prepared[#prepared + 1] = wrk.format(f[1], f[2], headers, body)" in lines
    assert "  local next_request = prepared[(START + sent) % count + 1]" in lines
    assert '"sent":%d' in script and "wrk.body" not in script and "wrk.headers" not in script
    with pytest.raises(ValueError):
        lua_cycle_script(Path("/tmp/requests.txt"), start=-1)


def test_cycled_requests_are_one_a_line_with_their_own_head_and_body(tmp_path: Path) -> None:
    post = HttpRequest.graphql("/graphql/web", "{ a }", token="tok")
    get = HttpRequest("GET", "/api/trips/trip-1", {"Authorization": "Bearer x"})
    path = write_requests(tmp_path / "requests.txt", [post, get])
    assert path.read_bytes() == (
        b"POST\t/graphql/web\tContent-Type\tapplication/json\tAuthorization\tBearer tok\t"
        b'{"query": "{ a }", "variables": {}}\n'
        b"GET\t/api/trips/trip-1\tAuthorization\tBearer x\t\n"
    )
    with pytest.raises(ValueError, match="line break"):
        request_line(post.with_body(b'{"a":\n1}'))
    with pytest.raises(ValueError, match="tab"):
        request_line(HttpRequest("GET", "/a", {"X": "a\tb"}))
    with pytest.raises(ValueError):
        write_requests(tmp_path / "none.txt", [])


class _Recorder(BaseHTTPRequestHandler):
    """Answers `{}` to everything and notes what it was sent."""

    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen: ClassVar[list[tuple[str, str, str | None, bytes]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_sends_the_cycled_requests_in_turn_whole(tmp_path: Path) -> None:
    requests = [
        HttpRequest.graphql("/graphql/web", "{ a }", variables={"n": n}, token=f"tok-{n}")
        for n in range(3)
    ] + [HttpRequest("GET", "/api/trips/trip-9", {"Authorization": "Bearer tok-get"})]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        summary = run_wrk(
            url,
            requests[0],
            script_dir=tmp_path,
            connections=1,
            duration_s=1,
            cycle=requests,
            start=1,
        )
    finally:
        server.shutdown()
        server.server_close()
    expected = [(r.method, r.path, r.headers["Authorization"], r.body or b"") for r in requests]
    seen = _Recorder.seen
    # One connection: exactly in turn, from `start` on, but for the request wrk asks for
    # (and never sends) before the run, to count how many the script pipelines.
    assert seen[:5] == [*expected[2:], *expected[:3]]
    assert set(seen) == set(expected)
    assert summary.error_count == 0
    assert summary.sent is not None and summary.sent > summary.requests >= len(requests)


def test_wrk_summary_of_the_cycle_script_says_how_many_were_sent() -> None:
    line = (
        'BENCH_JSON {"requests":400,"duration_us":2000000,"bytes":1,"sent":432,'
        '"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},'
        '"latency_us":{"p50":1,"p90":1,"p99":1,"max":1,"mean":1.0}}'
    )
    assert parse_summary(line).sent == 432
    assert parse_summary(line.replace('"sent":432,', "")).sent is None


def test_x_cache_notes_flag_any_answer_that_is_not_the_expected_tier() -> None:
    assert tally(["HIT-L1", "MISS", "HIT-L1"]) == "HIT-L1 ×2, MISS ×1"
    assert x_cache_note("HIT-L1", ["HIT-L1"] * 3, ["HIT-L1"] * 3) == (
        "X-Cache of 3 plain requests before the load and 3 after: all HIT-L1"
    )
    assert x_cache_note("HIT-L2", ["HIT-L2"], ["HIT-L1"]).startswith("X-CACHE NOT ALWAYS HIT-L2")


def test_public_variants_have_distinct_answer_keys() -> None:
    bodies = public_variant_bodies(3)
    assert b"query Top00002 { topDestinations(limit: 10)" in bodies[2]
    assert len({answer_key_of(body) for body in bodies}) == 3
    assert all(b"\n" not in body for body in bodies)


def test_there_are_more_variants_than_the_l1_holds() -> None:
    config = CacheConfig()
    assert l1_capacity(1375, config) == config.l1_entries
    assert l1_capacity(10 * 2**20, config) == 6  # the byte bound, for huge answers
    assert variant_count(20_000, 32) == 21_128 > 20_000


def test_redis_note_says_whether_every_request_was_an_l2_hit() -> None:
    hits = {"commands": {"mget": 1000}, "calls": 1000, "keyspace_hits": 1000, "keyspace_misses": 0}
    assert redis_note(hits, 1000).endswith("every request an L2 hit")
    misses = {**hits, "keyspace_hits": 990, "keyspace_misses": 10}
    assert redis_note(misses, 1000).endswith("NOT ALL L2 HITS")
    writes = {**hits, "commands": {"mget": 1000, "set": 3}, "calls": 1003}
    assert redis_note(writes, 1000).endswith("NOT ALL L2 HITS")
    coalesced = {**hits, "commands": {"mget": 80}, "calls": 80}  # one MGET, many requests
    assert redis_note(coalesced, 1000).endswith("every request an L2 hit")
    too_few = {**coalesced, "keyspace_hits": 900}  # a tenth answered from elsewhere
    assert redis_note(too_few, 1000).endswith("NOT ALL L2 HITS")


def test_every_baseline_runs_before_what_it_is_compared_with() -> None:
    order = [scenario.name for scenario in catalog.SCENARIOS]
    for index, scenario in enumerate(catalog.SCENARIOS):
        baseline = getattr(scenario, "baseline", None)
        if baseline is not None and baseline in order:
            assert order.index(baseline) < index, scenario.name
        if "gateway-redis" in scenario.needs:
            assert "redis" in scenario.needs, scenario.name


def test_a_target_may_take_a_ratio_of_a_second_scenario_of_the_same_run() -> None:
    results = with_ratios(
        [
            Result("direct", "stub", rps=1000.0),
            Result("proxy", "floor", rps=500.0, baseline="direct"),
            Result(
                "gw",
                "gateway",
                rps=450.0,
                baseline="direct",
                targets=(Target("ratio", ">=", 0.4), Target("ratio", ">=", 0.8, of="proxy")),
            ),
            Result(
                "lone",
                "its second scenario did not run",
                rps=1.0,
                targets=(Target("ratio", ">=", 0.8, of="nope"),),
            ),
        ]
    )
    gateway, lone = results[2], results[3]
    assert (gateway.ratio, dict(gateway.ratios)) == (0.45, {"proxy": 0.9})
    assert gateway.verdict() == "yes"
    assert report.format_ratio(gateway) == "0.45 × direct; 0.90 × proxy"
    assert (dict(lone.ratios), lone.verdict(), report.format_ratio(lone)) == ({}, "n/a", "—")
    slow = Result("gw", "t", ratio=0.45, ratios={"proxy": 0.7}, targets=gateway.targets)
    assert slow.verdict() == "no (ratio to proxy)"
    assert [t.label() for t in gateway.targets] == ["ratio ≥ 0.4", "ratio to proxy ≥ 0.8"]
    with pytest.raises(ValueError):
        Target("backend_requests", "==", 1, of="proxy")


def test_the_tail_target_is_p99_over_p50() -> None:
    tail = Target("p99_over_p50", "<=", 3)
    assert tail.label() == "p99 ≤ 3 × p50"
    steady = Result("r", "t", p50_s=0.010, p99_s=0.025, targets=(tail,))
    spiky = Result("r", "t", p50_s=0.010, p99_s=0.040, targets=(tail,))
    assert (steady.verdict(), spiky.verdict()) == ("yes", "no (p99_over_p50)")
    assert Result("r", "t", targets=(tail,)).verdict() == "n/a"


def test_catalog_targets_name_scenarios_of_the_catalog() -> None:
    names = {scenario.name for scenario in catalog.SCENARIOS}
    for scenario in catalog.SCENARIOS:
        for target in getattr(scenario, "targets", ()):
            assert target.of is None or target.of in names, (scenario.name, target)
    for first, second, _ in catalog.COMPARISONS:
        assert {first, second} <= names
    assert len(names) == len(catalog.SCENARIOS)


def test_hand_written_bff_is_sent_the_gateways_request() -> None:
    by_name = {s.name: s for s in catalog.SCENARIOS if isinstance(s, LoadScenario)}
    assert by_name["bff-a"].service == "bff" and by_name["a"].service == "gateway-aiohttp"
    assert "bff" in by_name["bff-b"].needs
    assert {t.of for t in by_name["a"].targets} >= {"bff-a"}
    assert {t.of for t in by_name["b"].targets} >= {"bff-b"}


def test_same_bytes_note_says_where_answers_differ() -> None:
    assert (
        same_bytes_note(b'{"a":1}', b'{"a":1}')
        == "answer byte-identical to the gateway's (7 bytes)"
    )
    assert same_bytes_note(b'{"a":1}', b'{"a":2}').endswith(
        "7 vs 7 bytes, first difference at byte 5"
    )
    assert same_bytes_note(b'{"a":1}', b'{"a":1}x').endswith("first difference at byte 7")


def test_flights_scenarios_find_one_traveler_on_each_side_of_the_canary() -> None:
    decisions = [route_of_flights_batch(f"t-{n}") for n in range(1, 41)]
    assert any(canaried(d) for d in decisions) and not all(canaried(d) for d in decisions)
    for decision in decisions:
        assert (decision.shadow is None) == canaried(decision)


def test_minimal_proxy_drops_hop_by_hop_headers_only() -> None:
    headers = CIMultiDictProxy(
        CIMultiDict(
            [
                ("Host", "gw"),
                ("Connection", "keep-alive"),
                ("Transfer-Encoding", "chunked"),
                ("Authorization", "Bearer t"),
                ("Set-Cookie", "a=1"),
                ("Set-Cookie", "b=2"),
                ("Content-Length", "7"),
            ]
        )
    )
    assert list(kept(headers).items()) == [
        ("Authorization", "Bearer t"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Length", "7"),
    ]


# --- the hand-written BFF against the gateway, as real processes ---------------------------


@pytest.fixture(scope="module")
def bench_stack() -> Iterator[Stack]:
    """The stub, the gateway (every cache TTL 0) and the hand-written BFF, started exactly as
    `make bench` starts them (bench/services.py)."""
    with Stack() as stack:
        for service in ("stub", "gateway-aiohttp", "bff"):
            stack.url(service)
        yield stack


def _both(
    stack: Stack, gateway_path: str, bff_path: str, body: Mapping[str, object], token: str
) -> tuple[httpx.Response, httpx.Response]:
    headers = {"Authorization": f"Bearer {token}"}
    gateway = httpx.post(
        stack.url("gateway-aiohttp") + gateway_path, json=body, headers=headers, timeout=30
    )
    bff = httpx.post(stack.url("bff") + bff_path, json=body, headers=headers, timeout=30)
    return gateway, bff


def _travelers(stack: Stack) -> list[tuple[str, str]]:
    """t-1, t-2, and the first traveler of every other currency among t-1..t-60."""
    ids = ",".join(f"t-{n}" for n in range(1, 61))
    found = httpx.get(f"{stack.url('stub')}/api/travelers", params={"ids": ids}, timeout=10)
    by_id = {t["id"]: t["currency"] for t in found.json()["items"]}
    chosen = {"t-1": by_id["t-1"], "t-2": by_id["t-2"]}
    for number in range(3, 61):
        traveler = f"t-{number}"
        if traveler in by_id and by_id[traveler] not in chosen.values():
            chosen[traveler] = by_id[traveler]
    return list(chosen.items())


@pytest.mark.e2e
def test_hand_written_bff_answers_the_gateways_bytes(bench_stack: Stack) -> None:
    travelers = _travelers(bench_stack)
    assert len({currency for _, currency in travelers}) >= 3  # conversions are exercised
    compared_trips = 0
    for traveler, _ in travelers:
        token = issue_dev_token(traveler, secret=bench_stack.secret)
        page = {"query": WEB_TRIPS, "variables": {"traveler": traveler}}
        gateway, bff = _both(bench_stack, "/graphql/web", "/web/trips", page, token)
        assert gateway.status_code == bff.status_code == 200, (traveler, gateway.text[:300])
        assert "errors" not in gateway.json()
        assert bff.content == gateway.content, traveler
        trips = [trip["id"] for trip in gateway.json()["data"]["trips"]["items"]][:3]
        for trip in trips:
            body = {"query": MOBILE_ITINERARY, "variables": {"trip": trip}}
            gateway, bff = _both(bench_stack, "/graphql/mobile", "/mobile/itinerary", body, token)
            assert gateway.status_code == bff.status_code == 200, (trip, gateway.text[:300])
            assert "errors" not in gateway.json()
            assert bff.content == gateway.content, trip
            compared_trips += 1
    assert compared_trips >= 6


@pytest.mark.e2e
def test_hand_written_bff_refuses_another_travelers_trips(bench_stack: Stack) -> None:
    token = issue_dev_token("t-2", secret=bench_stack.secret)
    page = {"query": WEB_TRIPS, "variables": {"traveler": "t-1"}}
    bff = httpx.post(
        bench_stack.url("bff") + "/web/trips",
        json=page,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert bff.status_code == 403
    assert (
        httpx.post(bench_stack.url("bff") + "/web/trips", json=page, timeout=30).status_code == 401
    )


@pytest.mark.e2e
def test_rotations_are_answered_alike_from_six_backend_calls_each(bench_stack: Stack) -> None:
    """Every 8th request of (a)'s and (b)'s rotations, to the gateway and to the hand-written
    BFF: answered without errors, the same bytes, each from the minimum of backend calls."""
    scenarios = {s.name: s for s in catalog.SCENARIOS if isinstance(s, LoadScenario)}
    for gateway_name, bff_name in (("a", "bff-a"), ("b", "bff-b")):
        gateway_requests = as_requests(scenarios[gateway_name].request(bench_stack))
        bff_requests = as_requests(scenarios[bff_name].request(bench_stack))
        for index in range(0, len(gateway_requests), 8):
            answers = []
            for service, request in (
                ("gateway-aiohttp", gateway_requests[index]),
                ("bff", bff_requests[index]),
            ):
                reset_stub(bench_stack)
                answer = request.send(bench_stack.url(service), timeout_s=30)
                assert probe_problem(answer) is None, (service, index, answer.text[:300])
                assert stub_stats(bench_stack)["total"] == 6, (service, index)
                answers.append(answer.content)
            assert answers[0] == answers[1], (gateway_name, index)


@pytest.mark.e2e
def test_passthrough_baselines_forward_the_benchmark_request_as_the_stub_answers_it(
    bench_stack: Stack,
) -> None:
    """The passthrough's two baselines (the minimal proxy and the gateway's server and client
    alone) and the passthrough itself answer the stub's bytes from one backend request."""
    request = catalog.trip_request(bench_stack)
    direct = request.send(bench_stack.url("stub"), timeout_s=10)
    assert direct.status_code == 200
    for service in ("proxy", "asgi-floor", "gateway-aiohttp"):
        reset_stub(bench_stack)
        answer = request.send(bench_stack.url(service), timeout_s=10)
        assert answer.status_code == 200, (service, answer.text[:300])
        assert answer.content == direct.content, service
        assert stub_stats(bench_stack)["total"] == 1, service
