"""Figures a benchmark hands to ``make bench`` (bench/all.py), which writes RESULTS.md.

Each benchmark still prints its own report; when ``BENCH_RESULTS`` names a file it also
appends one JSON line there with the same figures."""

import json
import os
from pathlib import Path
from typing import Any

ENV = "BENCH_RESULTS"


def record(benchmark: str, **figures: Any) -> None:
    target = os.environ.get(ENV)
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(json.dumps({"benchmark": benchmark, **figures}, ensure_ascii=False) + "\n")


def http_figures(figures: Any) -> dict[str, Any]:
    """A wrk run (bench.intake_load.Figures) as plain numbers."""
    return {
        "name": figures.name,
        "rps": round(figures.rps, 1),
        "p50_ms": round(figures.p50_ms, 1),
        "p99_ms": round(figures.p99_ms, 1),
        "errors": figures.non_2xx,
        "requests": figures.requests,
        "cpu_ms_per_request": round(figures.cpu_ms_per_request, 2),
    }
