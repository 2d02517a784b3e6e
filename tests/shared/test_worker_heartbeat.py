"""A worker process (``python -m services.<name> worker``) serves no HTTP: its liveness probe
reads the heartbeat file it touches while its event loop turns (shared/cli.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shared.cli import HEARTBEAT_SECONDS
from tests.conftest import Databases

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_touches_its_heartbeat_while_it_runs_and_stops_on_sigterm(
    databases: Databases, keys_dir: Path, tmp_path: Path
) -> None:
    alive = tmp_path / "worker-alive"
    env = os.environ | {
        "GUARANTEE_DATABASE_URL": databases.new("heartbeat", migrate="guarantee"),
        "GUARANTEE_KEYS_DIR": str(keys_dir),
        "GUARANTEE_WORKER_HEARTBEAT_FILE": str(alive),
        "GUARANTEE_ENVIRONMENT": "test",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.guarantee", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not alive.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert alive.exists(), worker.stderr.read().decode()[-2000:] if worker.stderr else ""
        first = alive.stat().st_mtime
        time.sleep(HEARTBEAT_SECONDS + 1.5)
        assert alive.stat().st_mtime > first  # touched again: the loop turns
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
