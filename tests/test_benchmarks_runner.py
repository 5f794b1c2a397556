"""The end-to-end benchmark runner's pure parts, on recorded wrk output (no wrk, no servers)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root holds benchmarks/

from benchmarks import report, wsload  # noqa: E402
from benchmarks.report import KIB, MIB, IdleMemory, Sample, Workload  # noqa: E402
from benchmarks.run import WORKLOADS, parse_wrk, select, wrk_command  # noqa: E402

# Recorded from wrk 4.1.0 against nginx on loopback.
WRK_NGINX = """\
Running 1s test @ http://127.0.0.1:49325/hello
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.48ms    2.12ms  13.88ms   85.85%
    Req/Sec    58.27k    12.12k   75.56k    70.00%
  Latency Distribution
     50%  259.00us
     75%    2.16ms
     90%    4.44ms
     99%    9.07ms
  58861 requests in 1.02s, 9.04MB read
Requests/sec:  57699.45
Transfer/sec:      8.86MB
"""

# Recorded from wrk 4.1.0 against a server that answers 500 or closes without answering.
WRK_ERRORS = """\
Running 2s test @ http://127.0.0.1:18099/
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   329.58us    0.88ms   8.23ms   91.21%
    Req/Sec     8.57k     5.71k   21.37k    80.00%
  Latency Distribution
     50%   60.00us
     75%   79.00us
     90%    0.95ms
     99%    4.61ms
  17137 requests in 2.01s, 669.41KB read
  Socket errors: connect 0, read 38138, write 0, timeout 0
  Non-2xx or 3xx responses: 17137
Requests/sec:   8511.16
Transfer/sec:    332.47KB
"""

HELLO_50 = Workload("hello-50", "hello", 50, "/hello", "Hello world GET, 50 connections")


def test_parse_wrk_reads_rate_latencies_and_transfer():
    result = parse_wrk(WRK_NGINX)
    assert result.requests == 58861
    assert result.requests_per_s == pytest.approx(57699.45)
    assert result.p50_ms == pytest.approx(0.259)
    assert result.p99_ms == pytest.approx(9.07)
    assert result.bytes_per_s == pytest.approx(8.86 * MIB)
    assert (result.socket_errors, result.bad_status) == (0, 0)


def test_parse_wrk_counts_socket_errors_and_bad_statuses():
    result = parse_wrk(WRK_ERRORS)
    assert result.socket_errors == 38138
    assert result.bad_status == 17137
    assert result.p50_ms == pytest.approx(0.06)
    assert result.bytes_per_s == pytest.approx(332.47 * KIB)


def test_parse_wrk_of_nothing_is_not_a_number():
    result = parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    assert math.isnan(result.requests_per_s) and math.isnan(result.p99_ms)
    assert result.requests == 0


def test_wrk_command_asks_for_keep_alive_latency_and_script(tmp_path):
    script = tmp_path / "post.lua"
    command = wrk_command("http://127.0.0.1:1/echo", 50, 5, script)
    assert command[:4] == ["wrk", "-t1", "-c50", "-d5s"]
    assert "--latency" in command and "Connection: keep-alive" in command
    assert command[-3:] == ["-s", str(script), "http://127.0.0.1:1/echo"]


def test_median_ignores_missing_values():
    assert report.median([3.0, float("nan"), 1.0, 2.0]) == 2.0
    assert math.isnan(report.median([float("nan")]))


def samples(contender: str, rates, p99=1.0):
    return [Sample(contender, "hello-50", i, rate=r, p50_ms=0.5, p99_ms=p99) for i, r in enumerate(rates)]


def test_summarize_gives_medians_spread_and_errors():
    found = report.summarize(samples("outside", [300.0, 100.0, 200.0]))
    summary = found[("hello-50", "outside")]
    assert (summary.rate, summary.low, summary.high, summary.runs) == (200.0, 100.0, 300.0, 3)


def test_ratio_is_of_medians_and_missing_when_a_side_is():
    found = report.summarize(samples("outside", [300, 310, 290]) + samples("uvicorn", [100, 90, 110]))
    assert report.ratio(found, "hello-50", "outside", "uvicorn") == pytest.approx(3.0)
    assert math.isnan(report.ratio(found, "hello-50", "outside", "nginx"))


def test_goals_say_met_missed_or_not_measured():
    found = report.summarize(samples("outside", [300]) + samples("uvicorn", [100]) + samples("gunicorn-sync", [100]))
    verdicts = {goal.text: goal.met for goal in report.goals(found, [HELLO_50])}
    assert verdicts == {"hello-50: >= 1.5x uvicorn": True, "hello-50: >= 10x gunicorn sync + Flask": False,
                        "hello-50: >= 0.3x nginx (moonshot 0.5x)": None}


def test_idle_goal_uses_memory_per_held_connection():
    idle = Workload("idle-1000", "idle", 1000, "/hello", "idle")
    memory = IdleMemory(rss_before=10 * MIB, rss_after=10 * MIB + 1000 * 4 * KIB, held=1000)
    assert memory.per_connection == 4 * KIB
    found = report.summarize([Sample("outside", "idle-1000", 0, idle=memory)])
    (goal,) = report.goals(found, [idle])
    assert (goal.measured, goal.met) == ("4.0 KiB", True)
    assert math.isnan(IdleMemory(0, 0, 0).per_connection)


def test_throughput_table_has_a_row_per_contender_with_ratios():
    found = report.summarize(samples("outside", [300]) + samples("uvicorn", [100]) + samples("nginx", [600]))
    lines = report.throughput_table(HELLO_50, found, {"outside": "outside (C)", "uvicorn": "uvicorn", "nginx": "nginx"})
    outside_row = next(line for line in lines if line.startswith("| outside (C)"))
    assert "| 300 |" in outside_row and "3.00x" in outside_row and "0.50x" in outside_row
    assert len(lines) == 2 + 3


def test_render_names_missed_goals_and_skipped_contenders():
    info = report.RunInfo("2026-01-01 00:00 UTC", "python -m benchmarks", 1, 1, 1.0, {"CPU": "x"}, {"wrk": "4"})
    text = report.render(info, [HELLO_50], samples("outside", [100]) + samples("uvicorn", [100]),
                         {"outside": "outside (C)", "uvicorn": "uvicorn"}, ["nginx: not installed"], [], [])
    assert "**missed**" in text and "- nginx: not installed" in text and "## Hello world GET" in text


def test_select_filters_contenders_and_workload_groups():
    contenders, workloads = select("outside,uvicorn,hello")
    assert [c.name for c in contenders] == ["outside", "uvicorn"]
    assert [w.name for w in workloads] == ["hello-1", "hello-50", "hello-256"]
    _, everything = select(None)
    assert everything == WORKLOADS
    with pytest.raises(SystemExit):
        select("no-such-server")


def test_collapsed_hotspots_rank_own_and_inclusive_time():
    from benchmarks.run import collapsed_hotspots

    collapsed = ("process 7:\"python app.py\";main (a.py:1);loop (b.py:2);parse (c.py:3) 6\n"
                 "main (a.py:1);loop (b.py:9);send (d.py:4) 4\nprocess 7:\"python app.py\" 3\n")
    total, own, inclusive = collapsed_hotspots(collapsed)
    assert total == 10
    assert own[0] == ("parse (c.py)", 6)
    assert ("loop (b.py)", 10) in inclusive


@pytest.mark.parametrize("size", [0, 32, 125, 126, 65535, 65536, 70000])
def test_ws_client_frame_unmasks_to_the_payload(size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    frame = wsload.client_frame(payload, b"\x01\x02\x03\x04")
    head_size, length, fin, opcode = wsload.frame_header(frame)
    mask = frame[head_size - 4:head_size]
    unmasked = bytes(b ^ mask[i % 4] for i, b in enumerate(frame[head_size:]))
    assert (length, fin, opcode, unmasked) == (size, True, 0x2, payload)


def server_frame(payload: bytes, opcode: int = 0x2, fin: bool = True) -> bytes:
    first = (0x80 if fin else 0) | opcode
    if len(payload) < 126:
        return bytes([first, len(payload)]) + payload
    return bytes([first, 126]) + len(payload).to_bytes(2, "big") + payload


def test_reply_counter_counts_messages_fed_whole_or_byte_by_byte():
    stream = (server_frame(b"a" * 32) + server_frame(b"", opcode=0x9)  # a ping is no reply
              + server_frame(b"b" * 200, fin=False) + server_frame(b"c" * 10, opcode=0x0) + server_frame(b"d" * 32))
    assert wsload.ReplyCounter().feed(stream) == 3
    counter = wsload.ReplyCounter()
    assert sum(counter.feed(stream[i:i + 1]) for i in range(len(stream))) == 3



# /proc/<pid>/stat of a process whose name holds a space and a ")": utime 250, stime 40,
# and 7 + 3 ticks of its children reaped so far.
PROC_STAT = ("4242 (my (odd) app) S 1 4242 4242 0 -1 4194560 3015 0 0 0 250 40 7 3 20 0 3 0 "
             "1234567 123456789 4321 18446744073709551615 1 1 0 0 0 0 0 16781312 134235650 0 0 0 17 0 0 0 0 0 0")


def test_cpu_ticks_add_user_and_system_time_of_process_and_children_past_an_odd_name():
    assert report.cpu_ticks(PROC_STAT) == 300


def test_cpu_per_request_divides_the_ticks_spent_by_the_requests():
    # 150 ticks at 100 per second over 30,000 requests: 1.5 s / 30,000 = 50 µs each
    assert report.cpu_per_request(1000, 1150, 30000, 100) == pytest.approx(50e-6)
    assert math.isnan(report.cpu_per_request(1000, 1150, 0, 100))


def test_round_ratios_pair_the_rounds_and_skip_a_round_without_the_reference():
    found = (samples("outside", [100, 200, 400]) + samples("socketify", [300, 300, 300])
             + [Sample("socketify", "hello-50", 3, rate=999.0)])
    assert report.round_ratios(found, "hello-50", "socketify", "outside") == [3.0, 1.5, 0.75]
    lines = report.throughput_table(HELLO_50, report.summarize(found), {"socketify": "socketify"}, found)
    assert "1.50x (0.75–3.00)" in lines[-1]


def test_throughput_table_shows_cpu_per_request_in_microseconds():
    runs = [Sample("outside", "hello-50", i, rate=100.0, cpu_per_request=c) for i, c in enumerate([4e-5, 2e-5, 3e-5])]
    lines = report.throughput_table(HELLO_50, report.summarize(runs), {"outside": "outside (C)"}, runs)
    assert "CPU µs/req" in lines[0] and "| 30.0 |" in lines[-1]


def test_tags_select_sets_and_wsgi_only_contenders_run_just_their_workloads():
    from benchmarks.run import runs

    contenders, workloads = select("wsgi,hello-1,hello-50")
    names = {c.name for c in contenders}
    assert {"outside-wsgi", "granian-wsgi-flask", "bjoern", "gunicorn-wsgi"} <= names and "uvicorn" not in names
    mount = next(c for c in contenders if c.name == "outside-wsgi")
    assert [w.name for w in workloads if runs(mount, w)] == ["hello-50"]
    granian = next(c for c in contenders if c.name == "granian-wsgi")
    assert [w.name for w in workloads if runs(granian, w)] == ["hello-1", "hello-50"]


def test_the_pipeline_script_sends_sixteen_requests_per_call():
    from benchmarks.run import PIPELINE_DEPTH, PIPELINE_SCRIPT

    script = PIPELINE_SCRIPT.read_text()
    assert f"local depth = {PIPELINE_DEPTH}" in script and "string.rep(one, depth)" in script
    assert "function request()\n  return batch\nend" in script


def test_wsgi_section_compares_each_app_with_outside_serving_it():
    from benchmarks.run import sections

    contenders, _ = select("peers,wsgi")
    main, (wsgi,) = sections(contenders)
    assert "outside-wsgi" not in main and "granian-wsgi" in main and "socketify" in main
    assert wsgi.references["bjoern"] == "outside-wsgi" and wsgi.references["bjoern-flask"] == "outside-wsgi-flask"
    assert list(wsgi.labels)[:1] == ["outside-wsgi"] and wsgi.workloads == {"hello-50", "json-50"}
