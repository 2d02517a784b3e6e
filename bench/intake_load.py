"""Load intake's ``POST /v1/applications`` on PostgreSQL and, in the same run, the raw
Starlette + asyncpg baseline (bench/baseline.py); print req/s, p50/p99, the ratio to the
baseline and the assessment lag (how long until every accepted application is assessed).

    make bench                      # defaults: 32 connections, 20 s per target
    .venv/bin/python -m bench.intake_load --connections 32 --duration 20

Needs wrk (Debian package ``wrk``) and the PostgreSQL server on 127.0.0.1:5432. Creates
its own databases and drops them afterwards. Traffic goes to 127.0.0.1 only.
"""

import argparse
import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import report
from deploy.local import ROOT, SERVICES, LocalStack, free_port
from tests.conftest import Tokens, application_body, make_uscc

SERVER = "postgresql://postgres@127.0.0.1:5432"


@dataclass
class Figures:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


# Requests cycle through many bodies (many enterprises), as real traffic would; each wrk
# thread starts at a different offset.
LUA = """
local bodies = {{ {bodies} }}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{headers}
setup = function(thread) thread:set("offset", math.random(1, #bodies)) end
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n + (offset or 0)) % #bodies + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def run_wrk(
    name: str,
    url: str,
    bodies: list[dict],
    headers: dict[str, str],
    *,
    connections: int,
    duration: int,
) -> Figures:
    header_lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    encoded = ", ".join(f"[==[{json.dumps(b, ensure_ascii=False)}]==]" for b in bodies)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA.format(bodies=encoded, headers=header_lines))
    return wrk(name, url, Path(script.name), connections=connections, duration=duration)


def wrk(
    name: str, url: str, script: Path, *, connections: int, duration: int, threads: int = 2
) -> Figures:
    """Run wrk with a Lua script whose ``done`` prints the RESULT line; its figures."""
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", output)
    if not match:
        raise RuntimeError(output)
    requests, seconds, p50, p99, errors = match.groups()
    return Figures(name, int(requests), float(seconds), float(p50), float(p99), int(errors))


async def create_databases(names: list[str]) -> None:
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_databases(names: list[str]) -> None:
    connection = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def assessment_lag(
    dsn: str, load_ended: float, give_up_after: float = 120
) -> dict[str, float]:
    """Wait until nothing is `assessing`; report the drain time and per-application lag."""
    connection = await asyncpg.connect(dsn)
    try:
        while True:
            waiting = await connection.fetchval(
                "SELECT count(*) FROM applications WHERE status = 'assessing'"
            )
            if waiting == 0 or time.monotonic() - load_ended > give_up_after:
                break
            await asyncio.sleep(0.05)
        drained = time.monotonic() - load_ended
        row = await connection.fetchrow(
            "WITH lag AS (SELECT extract(epoch FROM assessed_at - created_at) AS s"
            " FROM applications WHERE assessed_at IS NOT NULL)"
            " SELECT count(*) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50,"
            " percentile_cont(0.99) WITHIN GROUP (ORDER BY s) AS p99, max(s) AS max FROM lag"
        )
        return {
            "waiting": float(waiting),
            "drain_s": drained,
            "assessed": float(row["n"]),
            "p50_s": float(row["p50"] or 0),
            "p99_s": float(row["p99"] or 0),
            "max_s": float(row["max"] or 0),
        }
    finally:
        await connection.close()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=20)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")

    names = {s.name: f"picidai_bench_{s.name}" for s in SERVICES}
    baseline_db = "picidai_bench_baseline"
    asyncio.run(create_databases([*names.values(), baseline_db]))
    rng = random.Random(2021)
    bodies = [application_body(make_uscc(rng=rng)) for _ in range(2000)]
    results: list[Figures] = []
    try:
        # 1. the baseline
        port = free_port()
        baseline = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.baseline:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env={**__import__("os").environ, "BASELINE_DSN": f"{SERVER}/{baseline_db}"},
        )
        try:
            _wait(f"http://127.0.0.1:{port}/rows", method="POST", body=bodies[0])
            run_wrk(
                "warm-up",
                f"http://127.0.0.1:{port}/rows",
                bodies,
                {},
                connections=args.connections,
                duration=3,
            )
            results.append(
                run_wrk(
                    "baseline (Starlette + asyncpg insert)",
                    f"http://127.0.0.1:{port}/rows",
                    bodies,
                    {},
                    connections=args.connections,
                    duration=args.duration,
                )
            )
        finally:
            baseline.terminate()
            baseline.wait()

        # 2. the real thing: three services, intake handing off to guarantee as it goes
        state = Path(tempfile.mkdtemp(prefix="bench-"))
        stack = LocalStack(
            state_dir=state,
            database_urls={
                n: f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}" for n, db in names.items()
            },
            ports={s.name: free_port() for s in SERVICES},
            log_dir=state / "log",
            extra_env={
                "INTAKE_LOG_JSON": "true",
                "GUARANTEE_LOG_JSON": "true",
                "GATEWAY_LOG_JSON": "true",
            },
        )
        stack.prepare()
        stack.start_all()
        try:
            idle = {n: rss_mb(p.pid) for n, p in stack.processes.items()}
            tokens = Tokens(stack.keys_dir)
            # Bureau staff may submit for any enterprise: one token for 2,000 enterprises.
            headers = {"Authorization": f"Bearer {tokens.bureau()}"}
            url = stack.url("loan_intake") + "/v1/applications"
            run_wrk("warm-up", url, bodies, headers, connections=args.connections, duration=3)
            asyncio.run(assessment_lag(f"{SERVER}/{names['loan_intake']}", time.monotonic()))
            intake = run_wrk(
                "loan_intake POST /v1/applications",
                url,
                bodies,
                headers,
                connections=args.connections,
                duration=args.duration,
            )
            loaded = {n: rss_mb(p.pid) for n, p in stack.processes.items()}
            lag = asyncio.run(assessment_lag(f"{SERVER}/{names['loan_intake']}", time.monotonic()))
            results.append(intake)
        finally:
            stack.stop_all()
    finally:
        asyncio.run(drop_databases([*names.values(), baseline_db]))

    base = results[0]
    print()
    print(f"{'target':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}")
    for f in results:
        print(
            f"{f.name:<42} {f.rps:>8.0f} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {f.non_2xx:>7} "
            f"{f.rps / base.rps:>6.2f}"
        )
    print()
    print(
        f"assessment lag: every accepted application assessed {lag['drain_s']:.2f} s after the"
        f" load ended ({lag['waiting']:.0f} still waiting); per application p50"
        f" {lag['p50_s']:.2f} s, p99 {lag['p99_s']:.2f} s, max {lag['max_s']:.2f} s"
        f" over {lag['assessed']:.0f} applications"
    )
    print(
        "RSS MB idle → after load: "
        + ", ".join(f"{n} {idle[n]:.0f} → {loaded[n]:.0f}" for n in idle)
    )
    report.record(
        "intake",
        connections=args.connections,
        duration=args.duration,
        baseline=report.http_figures(base),
        target=report.http_figures(results[1]),
        lag=lag,
        rss={n: [round(idle[n], 1), round(loaded[n], 1)] for n in idle},
    )


def _wait(url: str, *, method: str, body: dict, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.request(method, url, json=body, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(url)


if __name__ == "__main__":
    main()
