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
import os
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
    # CPU seconds the serving process used during the run (0: not measured)
    cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_s / self.requests if self.requests else 0.0


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


@dataclass
class Peer:
    """A one-process comparison app (bench/baseline.py, bench/naive.py) on its own database."""

    name: str
    app: str
    path: str


PEERS = (
    Peer("baseline (Starlette + asyncpg insert)", "bench.baseline:app", "/rows"),
    Peer("naive peer (FastAPI + SQLModel insert)", "bench.naive:app", "/applications"),
)


QUIET = ("--log-level", "warning", "--no-access-log")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_peer(peer: Peer, database: str, bodies: list[dict], args: argparse.Namespace) -> Figures:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", peer.app, "--port", str(port), *QUIET],
        cwd=ROOT,
        env={**os.environ, "BASELINE_DSN": f"{SERVER}/{database}"},
    )
    url = f"http://127.0.0.1:{port}{peer.path}"
    try:
        _wait(url, method="POST", body=bodies[0])
        run_wrk("warm-up", url, bodies, {}, connections=args.connections, duration=3)
        before = cpu_seconds(process.pid)
        figures = run_wrk(
            peer.name, url, bodies, {}, connections=args.connections, duration=args.duration
        )
        figures.cpu_s = cpu_seconds(process.pid) - before
        return figures
    finally:
        process.terminate()
        process.wait()


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
    peer_db = "picidai_bench_baseline"
    asyncio.run(create_databases([*names.values(), peer_db]))
    rng = random.Random(2021)
    bodies = [application_body(make_uscc(rng=rng)) for _ in range(2000)]
    try:
        # 1. the raw baseline and the naive peer, one after the other
        results = [load_peer(peer, peer_db, bodies, args) for peer in PEERS]
        # 2. the real thing: three services, each with its worker process; intake's worker
        # hands applications to the guarantee service's as they come
        intake, lag, rss = load_ours(names, bodies, args)
        results.append(intake)
    finally:
        asyncio.run(drop_databases([*names.values(), peer_db]))

    base = results[0]
    print()
    print(
        f"{'target':<42} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>6}"
        f" {'CPU ms/req':>10}"
    )
    for f in results:
        print(
            f"{f.name:<42} {f.rps:>8.0f} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {f.non_2xx:>7} "
            f"{f.rps / base.rps:>6.2f} {f.cpu_ms_per_request:>10.2f}"
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
        + ", ".join(f"{n} {a:.0f} → {b:.0f}" for n, (a, b) in rss.items())
    )
    report.record(
        "intake",
        connections=args.connections,
        duration=args.duration,
        baseline=report.http_figures(base),
        naive=report.http_figures(results[1]),
        target=report.http_figures(intake),
        lag=lag,
        rss=rss,
    )


def postgres_stack(
    databases: dict[str, str], *, prefix: str, separate_workers: bool = True, **env: str
) -> LocalStack:
    """The three services on the given PostgreSQL databases (one per service, created by
    :func:`create_databases`), on free ports, with a state directory of their own."""
    state = Path(tempfile.mkdtemp(prefix=prefix))
    return LocalStack(
        state_dir=state,
        database_urls={
            n: f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}" for n, db in databases.items()
        },
        ports={s.name: free_port() for s in SERVICES},
        log_dir=state / "log",
        separate_workers=separate_workers,
        extra_env=env,
    )


def load_ours(
    names: dict[str, str], bodies: list[dict], args: argparse.Namespace
) -> tuple[Figures, dict[str, float], dict[str, list[float]]]:
    stack = postgres_stack(
        names,
        prefix="bench-",
        INTAKE_LOG_JSON="true",
        GUARANTEE_LOG_JSON="true",
        GATEWAY_LOG_JSON="true",
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
        serving = stack.processes["loan_intake"].pid
        before = cpu_seconds(serving)
        intake = run_wrk(
            "loan_intake POST /v1/applications",
            url,
            bodies,
            headers,
            connections=args.connections,
            duration=args.duration,
        )
        intake.cpu_s = cpu_seconds(serving) - before
        loaded = {n: rss_mb(p.pid) for n, p in stack.processes.items()}
        lag = asyncio.run(assessment_lag(f"{SERVER}/{names['loan_intake']}", time.monotonic()))
    finally:
        stack.stop_all()
    rss = {n: [round(idle[n], 1), round(loaded[n], 1)] for n in idle}
    return intake, lag, rss


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
