"""Where intake's CPU goes under load: py-spy samples the serving process while wrk loads
``POST /v1/applications`` (as bench/intake_load.py does), and prints the flame summary —
the share of samples in which each of our own and our libraries' frames is on the stack.

    .venv/bin/python -m bench.profile --duration 15      # needs root (ptrace) or CAP_SYS_PTRACE

The collapsed stacks are kept (``--keep``) for a flame graph (e.g. speedscope).
"""

import argparse
import asyncio
import collections
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.intake_load import (
    cpu_seconds,
    create_databases,
    drop_databases,
    postgres_stack,
    run_wrk,
)
from deploy.local import SERVICES
from tests.conftest import Tokens, application_body, make_uscc

# Frames worth naming: ours, and the libraries a request passes through.
PACKAGES = (
    "services/",
    "shared/",
    "fastapi/",
    "starlette/",
    "pydantic/",
    "sqlalchemy/",
    "asyncpg/",
    "structlog/",
    "uvicorn/",
    "prometheus_fastapi_instrumentator/",
    "asgi_correlation_id/",
    "jwt/",
    "httpx/",
)


def postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on the machine."""
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/comm"):
        try:
            if status.read_text().strip() == "postgres":
                total += cpu_seconds(int(status.parent.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def summarise(collapsed: Path, top: int) -> list[tuple[float, str]]:
    """Inclusive share of samples per frame (a frame counted once per stack)."""
    counts: collections.Counter[str] = collections.Counter()
    by_package: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        samples = int(n)
        total += samples
        frames = set()
        packages = set()
        for frame in stack.split(";"):
            for package in PACKAGES:
                if package in frame:
                    frames.add(_short(frame, package))
                    packages.add(package)
                    break
        for frame in frames:
            counts[frame] += samples
        for package in packages:
            by_package[package] += samples
    rows = [(100 * n / total, f"[{p}]") for p, n in by_package.most_common()]
    rows += [(100 * n / total, f) for f, n in counts.most_common(top)]
    return rows


def _short(frame: str, package: str) -> str:
    # "function (path/to/file.py:12)" → "function (package/…/file.py)"
    name, _, where = frame.partition(" (")
    path = where.split(":")[0]
    return f"{name} ({package}{path.split(package, 1)[-1]})"


def record(pid: int, duration: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` for ``duration`` seconds into ``output`` (collapsed stacks)."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--duration",
            str(duration),
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the collapsed stacks")
    parser.add_argument(
        "--process",
        default="loan_intake",
        help="which process to sample: loan_intake, guarantee (assessing as intake hands over), "
        "loan_intake.worker, …",
    )
    args = parser.parse_args()
    names = {s.name: f"picidai_profile_{s.name}" for s in SERVICES}
    asyncio.run(create_databases(list(names.values())))
    rng = random.Random(2021)
    bodies = [application_body(make_uscc(rng=rng)) for _ in range(2000)]
    stack = postgres_stack(names, prefix="picidai-profile-", INTAKE_LOG_JSON="true")
    collapsed = stack.state_dir / f"{args.process}.collapsed"
    try:
        stack.prepare()
        stack.start_all()
        tokens = Tokens(stack.keys_dir)
        headers = {"Authorization": f"Bearer {tokens.bureau()}"}
        url = stack.url("loan_intake") + "/v1/applications"
        run_wrk("warm-up", url, bodies, headers, connections=args.connections, duration=3)
        pid = stack.processes[args.process].pid
        spy = record(pid, args.duration, collapsed)
        time.sleep(0.5)
        before = cpu_seconds(pid)
        others = {name: cpu_seconds(p.pid) for name, p in stack.processes.items()}
        database = postgres_cpu()
        figures = run_wrk(
            "intake", url, bodies, headers, connections=args.connections, duration=args.duration
        )
        used = cpu_seconds(pid) - before
        others = {name: cpu_seconds(p.pid) - others[name] for name, p in stack.processes.items()}
        others["postgres (all backends)"] = postgres_cpu() - database
        spy.wait()
    finally:
        stack.stop_all()
        asyncio.run(drop_databases(list(names.values())))
    print(
        f"\nintake under load: {figures.rps:,.0f} req/s, p99 {figures.p99_ms:.0f} ms, "
        f"{1000 * used / figures.requests:.2f} CPU ms per request in {args.process}\n"
    )
    print("CPU ms per request answered, by process, over the same run:")
    for name, seconds in others.items():
        print(f"  {1000 * seconds / figures.requests:6.2f}  {name}")
    print("share of samples with the frame on the stack:")
    for share, frame in summarise(collapsed, args.top):
        print(f"  {share:5.1f} %  {frame}")
    if args.keep:
        print(f"\ncollapsed stacks: {collapsed}")


if __name__ == "__main__":
    main()
