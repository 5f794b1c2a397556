"""The numbers of an end-to-end run: samples, medians, ratios, goals, and the written report.

``benchmarks/run.py`` measures; this module only computes and writes (RESULTS.md and the
PNG charts), so its functions can be tested on recorded numbers.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

KIB, MIB = 1024, 1024 * 1024
MAIN = "outside"  # the contender the goals are about
HTTP_BASELINES = {"uvicorn": "vs uvicorn", "gunicorn-sync": "vs gunicorn+Flask", "nginx": "vs nginx"}
WS_BASELINES = {"websockets": "vs websockets", "aiohttp": "vs aiohttp"}
NAN = float("nan")


@dataclass(frozen=True)
class Workload:
    """One measured situation: a group of requests at a given concurrency."""

    name: str  # the id used by --only and in tables
    group: str  # which contenders serve it (see benchmarks.apps)
    connections: int
    path: str
    title: str
    size: int = 0  # bytes per request or message, for throughput


@dataclass
class Sample:
    """The outcome of one run of one workload against one contender."""

    contender: str
    workload: str
    round: int
    rate: float = NAN  # requests or messages per second
    p50_ms: float = NAN
    p99_ms: float = NAN
    bytes_per_s: float = NAN
    errors: int = 0
    idle: Optional[IdleMemory] = None
    cpu_per_request: float = NAN  # seconds of server CPU (all its processes) per request or message


@dataclass(frozen=True)
class IdleMemory:
    """Server memory around a set of idle keep-alive connections."""

    rss_before: int
    rss_after: int
    held: int  # connections answered and still open when measured

    @property
    def per_connection(self) -> float:
        return (self.rss_after - self.rss_before) / self.held if self.held else NAN


@dataclass(frozen=True)
class Summary:
    """Medians over the rounds of one contender on one workload."""

    rate: float
    low: float
    high: float
    p50_ms: float
    p99_ms: float
    bytes_per_s: float
    errors: int
    runs: int
    per_connection: float = NAN  # idle workload: bytes of RSS per connection
    held: int = 0
    cpu_per_request: float = NAN  # seconds


def cpu_ticks(stat: str) -> int:
    """utime + stime + cutime + cstime (in clock ticks) from the text of ``/proc/<pid>/stat``:
    the process with all its threads, and its children that have exited and been reaped
    (a server that forks per connection spends its time in those)."""
    fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces and ")"
    return sum(int(value) for value in fields[11:15])  # fields 14-17 of proc(5), after pid and comm


def cpu_per_request(ticks_before: int, ticks_after: int, requests: int, ticks_per_second: int) -> float:
    """Seconds of CPU per request between two readings of a process tree's ticks
    (NaN when nothing was served)."""
    if requests <= 0:
        return NAN
    return (ticks_after - ticks_before) / ticks_per_second / requests


def median(values: Iterable[float]) -> float:
    """The median of the values that are numbers (NaN when there are none)."""
    numbers = [v for v in values if v == v]
    return statistics.median(numbers) if numbers else NAN


def summarize(samples: Sequence[Sample]) -> Dict[Tuple[str, str], Summary]:
    """(workload, contender) -> Summary of its samples."""
    grouped: Dict[Tuple[str, str], List[Sample]] = defaultdict(list)
    for sample in samples:
        grouped[(sample.workload, sample.contender)].append(sample)
    summaries = {}
    for key, runs in grouped.items():
        rates = [s.rate for s in runs if s.rate == s.rate]
        idle = [s.idle for s in runs if s.idle is not None]
        summaries[key] = Summary(
            rate=median(rates), low=min(rates, default=NAN), high=max(rates, default=NAN),
            p50_ms=median(s.p50_ms for s in runs), p99_ms=median(s.p99_ms for s in runs),
            bytes_per_s=median(s.bytes_per_s for s in runs), errors=sum(s.errors for s in runs), runs=len(runs),
            per_connection=median(m.per_connection for m in idle), held=min((m.held for m in idle), default=0),
            cpu_per_request=median(s.cpu_per_request for s in runs))
    return summaries


def round_ratios(samples: Sequence[Sample], workload: str, contender: str, reference: str) -> List[float]:
    """The rate of ``contender`` over that of ``reference`` in each round both were measured in."""
    rates: Dict[Tuple[str, int], float] = {}
    for s in samples:
        if s.workload == workload and s.contender in (contender, reference) and s.rate == s.rate:
            rates[(s.contender, s.round)] = s.rate
    rounds = sorted({r for (_, r) in rates})
    return [rates[(contender, r)] / rates[(reference, r)] for r in rounds
            if (contender, r) in rates and rates.get((reference, r))]


def ratio(summaries: Dict[Tuple[str, str], Summary], workload: str, contender: str, baseline: str) -> float:
    """Median rate of ``contender`` over that of ``baseline`` on one workload (NaN if either is missing)."""
    mine, theirs = summaries.get((workload, contender)), summaries.get((workload, baseline))
    if mine is None or theirs is None or not theirs.rate:
        return NAN
    return mine.rate / theirs.rate


@dataclass(frozen=True)
class Goal:
    """One target of the project, checked against this run."""

    text: str
    measured: str
    met: Optional[bool]  # None: not measured


def _ratio_goal(text: str, value: float, target: float, strict: bool = False) -> Goal:
    if value != value:
        return Goal(text, "not measured", None)
    met = value > target if strict else value >= target
    shown = f"{value:.2f}x"
    if not met and float(shown[:-1]) >= target:  # do not print a miss as the target itself
        shown = f"{value:.4f}x"
    return Goal(text, shown, met)


def goals(summaries: Dict[Tuple[str, str], Summary], workloads: Sequence[Workload]) -> List[Goal]:
    """The project's performance goals for outside (C), as ratios within this run."""
    found = []
    for w in workloads:
        def versus(peer: str, name: str = w.name) -> float:
            return ratio(summaries, name, MAIN, peer)
        if w.group == "hello":
            found += [_ratio_goal(f"{w.name}: >= 1.5x uvicorn", versus("uvicorn"), 1.5),
                      _ratio_goal(f"{w.name}: >= 10x gunicorn sync + Flask", versus("gunicorn-sync"), 10),
                      _ratio_goal(f"{w.name}: >= 0.3x nginx (moonshot 0.5x)", versus("nginx"), 0.3)]
        elif w.group == "static":
            found.append(_ratio_goal(f"{w.name}: within 1.2x of nginx (>= 0.83x)", versus("nginx"), 1 / 1.2))
        elif w.group == "ws":
            found += [_ratio_goal(f"{w.name}: ahead of {peer}", versus(peer), 1.0, strict=True)
                      for peer in WS_BASELINES]
        elif w.group == "idle":
            summary = summaries.get((w.name, MAIN))
            per = summary.per_connection if summary else NAN
            found.append(Goal(f"{w.name}: RSS per idle connection < 10 KiB",
                              "not measured" if per != per else f"{per / KIB:.1f} KiB",
                              None if per != per else per < 10 * KIB))
    return found


# --------------------------------------------------------------------------- the report

@dataclass(frozen=True)
class Section:
    """A part of the report: some contenders, each compared with its reference."""

    title: str
    intro: str
    labels: Mapping[str, str]  # contender -> label, in table order
    references: Mapping[str, str]  # contender -> the outside contender its ratios are to
    workloads: Optional[frozenset] = None  # workload names shown (None: all)
    charts: Tuple[str, ...] = ()  # file names of its bar charts (requests/s, CPU per request)


@dataclass(frozen=True)
class RunInfo:
    """How and where a run was made."""

    date: str
    command: str
    workers: int
    repeat: int
    duration: float
    machine: Mapping[str, str]
    versions: Mapping[str, str]


def _number(value: float, digits: int = 0) -> str:
    return "–" if value != value else f"{value:,.{digits}f}"


def _ms(value: float) -> str:
    if value != value:
        return "–"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def _times(value: float) -> str:
    return "–" if value != value else f"{value:.2f}x"


def _mb(value: float) -> str:
    return "–" if value != value else f"{value / MIB:,.0f}"


def _round_ratio(ratios: Sequence[float]) -> str:
    if not ratios:
        return "–"
    shown = _times(median(ratios))
    return shown if len(ratios) == 1 else f"{shown} ({min(ratios):.2f}–{max(ratios):.2f})"


def _us(seconds: float) -> str:
    return "–" if seconds != seconds else f"{seconds * 1e6:,.1f}"


def throughput_table(workload: Workload, summaries: Dict[Tuple[str, str], Summary], labels: Mapping[str, str],
                     samples: Sequence[Sample] = (), references: Optional[Mapping[str, str]] = None,
                     baselines: Optional[Mapping[str, str]] = None) -> List[str]:
    """The markdown table of one HTTP or WebSocket workload, one row per contender.

    With ``samples``, each row also has its server CPU per request and its rate over its
    reference's (``references[name]``, else outside) in each round: the median and range.
    """
    ws = workload.group == "ws"
    if baselines is None:
        baselines = WS_BASELINES if ws else HTTP_BASELINES
    unit = "msg/s" if ws else "req/s"
    show_mb = workload.size >= MIB
    per_round = bool(samples)
    header = [unit + " (median)", "spread (min–max)", "p50 ms", "p99 ms"] + (["MiB/s"] if show_mb else [])
    header += (["CPU µs/" + ("msg" if ws else "req"), "vs outside, per round (median, range)"] if per_round else [])
    header += list(baselines.values()) + ["errors"]
    lines = ["| server | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for name, label in labels.items():
        summary = summaries.get((workload.name, name))
        if summary is None:
            continue
        cells = [_number(summary.rate), f"{_number(summary.low)} – {_number(summary.high)}",
                 _ms(summary.p50_ms), _ms(summary.p99_ms)] + ([_mb(summary.bytes_per_s)] if show_mb else [])
        if per_round:
            reference = (references or {}).get(name, MAIN)
            cells += [_us(summary.cpu_per_request),
                      _round_ratio(round_ratios(samples, workload.name, name, reference))]
        cells += [_times(ratio(summaries, workload.name, name, peer)) for peer in baselines]
        cells.append(str(summary.errors))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def idle_table(workload: Workload, samples: Sequence[Sample], summaries: Dict[Tuple[str, str], Summary],
               labels: Mapping[str, str]) -> List[str]:
    """The markdown table of the idle-connections workload."""
    lines = ["| server | connections held | RSS before (MiB) | RSS with them (MiB) | per connection (KiB) |",
             "|---|---|---|---|---|"]
    for name, label in labels.items():
        memories = [s.idle for s in samples if s.contender == name and s.workload == workload.name and s.idle]
        if not memories:
            continue
        summary = summaries[(workload.name, name)]
        before = median(m.rss_before for m in memories) / MIB
        after = median(m.rss_after for m in memories) / MIB
        lines.append(f"| {label} | {summary.held} of {workload.connections} | {before:,.1f} | {after:,.1f} | "
                     f"{_number(summary.per_connection / KIB, 1)} |")
    return lines


def goals_table(found: Sequence[Goal]) -> List[str]:
    lines = ["| goal for outside (C) | measured | |", "|---|---|---|"]
    verdict = {True: "met", False: "**missed**", None: "not measured"}
    return lines + [f"| {g.text} | {g.measured} | {verdict[g.met]} |" for g in found]


def hotspots_section(name: str, label: str, total: int, own: Sequence[Tuple[str, int]],
                     inclusive: Sequence[Tuple[str, int]]) -> List[str]:
    """A profile summary: where the samples of one contender fell."""
    lines = [f"### {label}: {total:,} samples", "",
             "| own time | frame | | inclusive | frame |", "|---|---|---|---|---|"]
    for (own_frame, own_count), (inc_frame, inc_count) in zip(own, inclusive):
        lines.append(f"| {100 * own_count / total:.1f}% | `{own_frame}` | "
                     f"| {100 * inc_count / total:.1f}% | `{inc_frame}` |")
    return lines + [""]


def render(info: RunInfo, workloads: Sequence[Workload], samples: Sequence[Sample], labels: Mapping[str, str],
           skipped: Sequence[str], profiles: Sequence[List[str]], charts: Sequence[str],
           sections: Sequence[Section] = ()) -> str:
    """RESULTS.md: the goals, a table per workload (the contenders of ``labels``), then a
    table per workload of each extra section."""
    summaries = summarize(samples)
    machine = ", ".join(f"{key}: {value}" for key, value in info.machine.items())
    versions = ", ".join(f"{key} {value}" for key, value in info.versions.items())
    out = ["# End-to-end results", "",
           f"Measured {info.date} on {machine}.", "",
           f"Versions: {versions}.", "",
           f"Command: `{info.command}`: {info.repeat} round(s) of {info.duration:g} s runs, the contenders "
           f"interleaved in a rotating order; {info.workers} worker process(es) per server; every server "
           "without access log; wrk with one thread and `Connection: keep-alive`. Medians over the rounds; "
           "the spread is the lowest and highest rate seen; \"vs outside, per round\" is the median (and "
           "range) of the contender's rate over outside's in each round; the other ratios are of medians "
           "within this run. CPU µs/req: user + system time of the server's processes from /proc, before "
           "and after each run, over the requests wrk counted. "
           "How to read and reproduce these numbers: `benchmarks/README.md`.", "",
           "## Goals", ""] + goals_table(goals(summaries, workloads)) + [""]
    section_charts = {f"charts/{chart}" for s in sections for chart in s.charts}
    out += [f"![{Path(chart).stem}]({chart})" for chart in charts if chart not in section_charts] + [""]
    for workload in workloads:
        if not any(key[0] == workload.name for key in summaries):
            continue
        out += [f"## {workload.title}", ""]
        if workload.group == "idle":
            out += idle_table(workload, samples, summaries, labels)
        else:
            out += throughput_table(workload, summaries, labels, samples)
        out.append("")
    for extra in sections:
        shown = [w for w in workloads if w.group != "idle" and (extra.workloads is None or w.name in
                                                                  extra.workloads)]
        tables = [(w, throughput_table(w, summaries, extra.labels, samples, extra.references, {}))
                  for w in shown]
        tables = [(w, lines) for w, lines in tables if len(lines) > 2]
        if tables:
            out += [f"## {extra.title}", "", extra.intro, ""]
            out += [f"![{Path(chart).stem}](charts/{chart})" for chart in extra.charts if f"charts/{chart}" in charts]
            out.append("")
            for w, lines in tables:
                out += [f"### {w.title}", ""] + lines + [""]
    if skipped:
        out += ["## Not measured", ""] + [f"- {line}" for line in skipped] + [""]
    if profiles:
        out += ["## Where the time goes (py-spy, hello world at 50 connections)", ""]
        for section in profiles:
            out += section
    return "\n".join(out).rstrip() + "\n"


# --------------------------------------------------------------------------- charts

def charts(directory: Path, workloads: Sequence[Workload], samples: Sequence[Sample],
           labels: Mapping[str, str]) -> List[Path]:
    """PNG charts of hello-world req/s and p99 latency by connection count; returns their paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summaries = summarize(samples)
    hello = [w for w in workloads if w.group == "hello"]
    if not hello:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for metric, title, unit, filename in (("rate", "Hello world: requests per second", "req/s", "hello_rps.png"),
                                          ("p99_ms", "Hello world: p99 latency", "ms", "hello_p99.png")):
        figure, axes = plt.subplots(figsize=(9, 5.5))
        positions = range(len(hello))
        for name, label in labels.items():
            points = [summaries.get((w.name, name)) for w in hello]
            values = [getattr(p, metric) if p else NAN for p in points]
            if all(math.isnan(v) for v in values):
                continue
            style = {"linewidth": 3} if name == MAIN else {"linewidth": 1.5}
            if metric == "rate":
                low = [v - p.low if p else 0 for v, p in zip(values, points)]
                high = [p.high - v if p else 0 for v, p in zip(values, points)]
                axes.errorbar(positions, values, yerr=[low, high], marker="o", capsize=3, label=label, **style)
            else:
                axes.plot(positions, values, marker="o", label=label, **style)
        axes.set_xticks(list(positions), [str(w.connections) for w in hello])
        axes.set_xlabel("connections")
        axes.set_ylabel(unit + " (log scale)")
        axes.set_yscale("log")
        axes.set_title(title)
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
        figure.tight_layout()
        path = directory / filename
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written.append(path)
    return written


def bar_chart(path: Path, title: str, workloads: Sequence[Workload], samples: Sequence[Sample],
              labels: Mapping[str, str], references: Mapping[str, str], cpu: bool = False) -> Optional[Path]:
    """One panel per workload: each contender's median rate as a bar (its range as a whisker),
    or with ``cpu`` its median server CPU per request, the outside contenders in a darker
    color; None when nothing was measured."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summaries = summarize(samples)
    panels = [w for w in workloads if any((w.name, name) in summaries for name in labels)]
    if not panels:
        return None
    figure, axes_list = plt.subplots(len(panels), 1, figsize=(9, 1.2 + 0.28 * len(labels) * len(panels)),
                                     squeeze=False)
    outside = set(references.values())
    for axes, workload in zip(axes_list[:, 0], panels):
        names = [n for n in labels if (workload.name, n) in summaries]
        colors = ["#1f4e79" if n in outside else "#9bbbd9" for n in names]
        positions = range(len(names))
        if cpu:
            values = [summaries[(workload.name, n)].cpu_per_request * 1e6 for n in names]
            axes.barh(positions, values, color=colors)
        else:
            rates = [summaries[(workload.name, n)].rate for n in names]
            low = [r - summaries[(workload.name, n)].low for n, r in zip(names, rates)]
            high = [summaries[(workload.name, n)].high - r for n, r in zip(names, rates)]
            axes.barh(positions, rates, xerr=[low, high], color=colors, capsize=2, error_kw={"linewidth": 0.8})
        axes.set_yticks(list(positions), [labels[n] for n in names], fontsize=7)
        axes.invert_yaxis()
        axes.set_title(workload.title, fontsize=9)
        axes.tick_params(axis="x", labelsize=7)
        axes.grid(True, axis="x", alpha=0.3)
    axes_list[-1, 0].set_xlabel("server CPU µs per request (median; less is better)" if cpu else
                                "requests per second (median, whiskers: min-max over the rounds)", fontsize=8)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout(rect=(0, 0, 1, 0.99 - 0.25 / figure.get_figheight()))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
