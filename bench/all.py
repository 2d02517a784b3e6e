"""``make bench``: every load benchmark in one run, on PostgreSQL, each against its raw
baseline in the same run; the figures go to bench/RESULTS.md.

In order: intake under load (beside the raw Starlette + asyncpg insert and the naive
FastAPI + SQLModel peer), single signed bank callbacks (and the raw insert of the same
bodies), 10,000 bank events in bulk, a what-if over 100,000 stored assessments, and the
scale curve (the console's pages at 10k, 100k and 1M loans). Each benchmark starts the
services it needs as processes (serve and worker each) on fresh PostgreSQL databases at
127.0.0.1:5432 and drops them afterwards.

    python -m bench.all                               # the issues' sizes (long: the 1M portfolio)
    python -m bench.all --scale-sizes 10000 100000    # the curve to 100k
    python -m bench.all --quick                       # short runs, 20,000 assessments, 10k loans
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import ENV

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
IDLE_MB, LOADED_MB = 150, 300


def run(module: str, *args: str, results: Path) -> float:
    print(f"\n=== python -m {module} {' '.join(args)}", flush=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, ENV: str(results)},
        check=True,
    )
    return time.monotonic() - started


def postgres_version() -> str:
    try:
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def yes(met: bool) -> str:
    return "**met**" if met else "not met"


def write(records: dict[str, dict[str, Any]], args: argparse.Namespace, took: float) -> str:
    intake, single = records["intake"], records["callbacks_single"]
    bulk, whatif = records["callbacks_bulk"], records["whatif"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`bench/all.py`{' --quick' if args.quick else ''}) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {took / 60:.1f} min: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL "
        f"{postgres_version()}, wrk and the database on the same machine. One uvicorn "
        "process per service (its background work in a worker process beside it) and per "
        "peer. A single run is one sample: on this shared "
        "machine runs of the same code differ by up to 2× (bench/README.md has the ranges).",
        "",
        "## Throughput and latency: the raw baseline, the naive peer and ours, one run",
        "",
        "CPU ms/req: CPU time of the serving process over the run, per request answered.",
        "",
        "| benchmark | target | req/s | p50 ms | p99 ms | errors | CPU ms/req | ratio to raw |"
        " goal | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, rec, goal, met in (
        (
            f"intake `POST /v1/applications`, {intake['connections']} connections, "
            f"{intake['duration']} s",
            intake,
            "ratio ≥ 0.25 and ≥ the naive peer's, p99 < 100 ms",
            lambda r: (
                r["target"]["rps"] / r["baseline"]["rps"] >= 0.25
                and r["target"]["rps"] >= r.get("naive", r["target"])["rps"]
                and r["target"]["p99_ms"] < 100
            ),
        ),
        (
            f"gateway `POST /v1/bank/events` (signed, single), {single['connections']} "
            f"connections, {single['duration']} s",
            single,
            "ratio ≥ 0.25, p99 < 100 ms",
            lambda r: (
                r["target"]["rps"] / r["baseline"]["rps"] >= 0.25 and r["target"]["p99_ms"] < 100
            ),
        ),
    ):
        base = rec["baseline"]["rps"]
        for key in ("baseline", "naive", "target"):
            if key not in rec:
                continue
            t = rec[key]
            verdict = f" {goal} | {yes(met(rec))} |" if key == "target" else " | |"
            lines.append(
                f"| {label if key == 'baseline' else ''} | {t['name']} | {t['rps']:,.0f} | "
                f"{t['p50_ms']} | {t['p99_ms']} | {t['errors']} | "
                f"{t.get('cpu_ms_per_request', '')} | {t['rps'] / base:.2f} |{verdict}"
            )
    lag = intake["lag"]
    bulk_met = bulk["seconds"] <= 2 * bulk["events"] / 10_000 and bulk["visible_in_intake_s"] <= 5
    lines += [
        "",
        "## Work that finishes in the background (in the worker processes)",
        "",
        "| benchmark | figure | goal | |",
        "|---|---|---|---|",
        f"| assessment lag during and after the intake load | p50 {lag['p50_s']:.2f} s, p99 "
        f"{lag['p99_s']:.2f} s, max {lag['max_s']:.2f} s over {lag['assessed']:,.0f} "
        f"applications | p99 < 2 s | {yes(lag['p99_s'] < 2)} |",
        f"| {bulk['events']:,} signed bank events in bulk | {bulk['seconds']} s "
        f"({bulk['events_per_s']:,.0f} events/s); on the SMEs' pages "
        f"{bulk['visible_in_intake_s']} s later | ≤ 2 s for 10,000, pages ≤ 5 s later | "
        f"{yes(bulk_met)} |",
        f"| what-if over {whatif['assessments']:,} stored assessments | {whatif['seconds']} s "
        f"({whatif['status']}; {whatif['polls']} polls, {whatif['percentages']} distinct "
        f"percentages) | ≤ 10 s for 100,000 | "
        f"{yes(whatif['seconds'] <= 10 * whatif['assessments'] / 100_000)} |",
        "",
        "## Memory (RSS of each process: serve and its worker)",
        "",
        f"| process | idle MB | under load MB (where) | idle ≤ {IDLE_MB} | load ≤ {LOADED_MB} |",
        "|---|---|---|---|---|",
    ]
    idle = {name: mb[0] for name, mb in intake["rss"].items()}
    loaded: dict[str, tuple[float, str]] = {}
    for rec, where in (
        (intake, "intake load"),
        (single, "single callbacks"),
        (bulk, "bulk callbacks"),
        (whatif, "what-if"),
    ):
        for name, (_, mb) in rec["rss"].items():
            if mb > loaded.get(name, (0.0, ""))[0]:
                loaded[name] = (mb, where)
    for name in idle:
        mb, where = loaded.get(name, (idle[name], "idle"))
        lines.append(
            f"| {name} | {idle[name]:.0f} | {mb:.0f} ({where}) | {yes(idle[name] <= IDLE_MB)} "
            f"| {yes(mb <= LOADED_MB)} |"
        )
    lines += [
        "",
        f"The what-if's CPU processes (spawned by the guarantee's worker for the replay) "
        f"held {whatif['worker_processes_mb']:.0f} MB together at peak, on top of the "
        "worker's own figure.",
        "",
        *_scale_table(records.get("scale")),
        "Raw figures of this run, as the benchmarks recorded them:",
        "",
        "```json",
        json.dumps(records, ensure_ascii=False, indent=1),
        "```",
        "",
    ]
    return "\n".join(lines)


def _scale_table(record: dict[str, Any] | None) -> list[str]:
    """The console's pages at each portfolio size (bench/scale.py): median ms (slowest)."""
    if not record:
        return []
    sizes = sorted(record["pages"], key=int)
    names = list(record["pages"][sizes[0]])
    lines = [
        "## Scale curve: the console's pages over the portfolio (PostgreSQL)",
        "",
        "Median ms of the reads (slowest in brackets); goal: under 300 ms at 1,000,000 loans, "
        "growing no faster than the rows a page must read. `inf`: no answer within "
        "the read's time-out.",
        "",
        "| page | " + " | ".join(f"{int(size):,} loans" for size in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for name in names:
        cells = []
        for size in sizes:
            _, median, high = record["pages"][size].get(name, [None, None, None])
            cells.append("" if median is None else f"{median:,.0f} ({high:,.0f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs, to try the command")
    parser.add_argument(
        "--scale-sizes",
        nargs="+",
        default=["10000", "100000", "1000000"],
        help="portfolio sizes of the scale curve (bench/scale.py)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    duration = "5" if args.quick else "20"
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        results = Path(scratch) / "results.jsonl"
        run("bench.intake_load", "--duration", duration, results=results)
        run(
            "bench.callbacks_single",
            "--duration",
            duration,
            *(["--loans", "200"] if args.quick else []),
            results=results,
        )
        run("bench.callbacks_load", *(["--loans", "400"] if args.quick else []), results=results)
        run(
            "bench.whatif_load",
            *(["--applications", "20000"] if args.quick else []),
            results=results,
        )
        sizes = ["10000"] if args.quick else args.scale_sizes
        run("bench.scale", "--sizes", *sizes, results=results)
        records = {
            r["benchmark"]: r
            for r in (json.loads(line) for line in results.read_text().splitlines())
        }
    RESULTS.write_text(write(records, args, time.monotonic() - started), encoding="utf-8")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    print(RESULTS.read_text(encoding="utf-8").split("Raw figures")[0])


if __name__ == "__main__":
    main()
