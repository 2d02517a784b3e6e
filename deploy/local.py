"""Start the three services as real processes on 127.0.0.1.

``python -m deploy.local`` is what ``make run`` calls: it creates development keys,
migrates and seeds each service's SQLite database under ``var/``, starts the three
services, waits until each is ready, prints the URLs and a curl to try, and stops them
all on Ctrl-C. The end-to-end tests drive the same :class:`LocalStack`.
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from shared.auth import ISSUERS, Role, TokenIssuer, generate_keypair

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    env_prefix: str
    default_port: int


SERVICES = (
    ServiceSpec("loan_intake", "INTAKE_", 8001),
    ServiceSpec("guarantee", "GUARANTEE_", 8002),
    ServiceSpec("bank_gateway", "GATEWAY_", 8003),
)


WORKER_SUFFIX = ".worker"


def worker_name(service: str) -> str:
    """The key (and log file) of a service's worker process."""
    return service + WORKER_SUFFIX


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class LocalStack:
    state_dir: Path
    database_urls: dict[str, str]
    ports: dict[str, int]
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    # Each service's background work in a ``worker`` process of its own beside ``serve``
    # (make run, the benchmarks); False: serve runs it in its own loop (most e2e tests).
    separate_workers: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    instances: dict[str, str] = field(default_factory=dict)

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env(self, spec: ServiceSpec) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("INTAKE_", "GUARANTEE_", "GATEWAY_"))
        }
        p = spec.env_prefix
        env.update(
            {
                f"{p}DATABASE_URL": self.database_urls[spec.name],
                f"{p}PORT": str(self.ports[spec.name]),
                f"{p}KEYS_DIR": str(self.keys_dir),
                "INTAKE_GUARANTEE_URL": self.url("guarantee"),
                "INTAKE_GATEWAY_URL": self.url("bank_gateway"),
                "GUARANTEE_GATEWAY_URL": self.url("bank_gateway"),
                "GATEWAY_INTAKE_URL": self.url("loan_intake"),
                "GATEWAY_GUARANTEE_URL": self.url("guarantee"),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.separate_workers:
            env[f"{p}WORKERS_IN_PROCESS"] = "false"
        env.update(self.extra_env)
        return env

    def _run(self, spec: ServiceSpec, *args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", f"services.{spec.name}", *args],
            cwd=ROOT,
            env=self.env(spec),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{spec.name} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout.strip()

    def prepare(self, *, seed: bool = True) -> list[str]:
        """Keys, then migrations and demo data for the three services at once."""
        for issuer in ISSUERS:
            generate_keypair(self.keys_dir, issuer)
        args = ["migrate", "--seed"] if seed else ["migrate"]
        with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
            said = list(pool.map(lambda spec: self._run(spec, *args), SERVICES))
        return [line for output in said for line in output.splitlines()]

    def start(self, name: str, *, env: dict[str, str] | None = None) -> None:
        """Start ``name``; ``env`` adds to its environment for this run only. The process
        gets an instance id of its own, which its health answers carry (``wait_ready``)."""
        spec = next(s for s in SERVICES if s.name == name)
        instance = self.instances[name] = uuid.uuid4().hex
        env = {**self.env(spec), **(env or {}), "PICIDAI_INSTANCE_ID": instance}
        self.processes[name] = self._spawn(name, "serve", env)
        if self.separate_workers:
            self.processes[worker_name(name)] = self._spawn(name, "worker", env)

    def _spawn(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        label = name if command == "serve" else worker_name(name)
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = (self.log_dir / f"{label}.log").open("ab")
        else:
            output = subprocess.DEVNULL  # type: ignore[assignment]
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", f"services.{name}", command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )

    def wait_ready(self, name: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        url = self.url(name) + "/readyz"
        while time.monotonic() < deadline:
            process = self.processes.get(name)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see its log")
            try:
                answer = httpx.get(url, timeout=1.0)
                # Ours, not another stack's server that happens to hold the port.
                if (
                    answer.status_code == 200
                    and answer.json().get("instance") == self.instances[name]
                ):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{name} not ready at {url} after {timeout:.0f}s")

    def start_all(self) -> None:
        for spec in SERVICES:
            self.start(spec.name)
        for spec in SERVICES:
            self.wait_ready(spec.name)

    def stop(self, name: str, *, kill: bool = False) -> None:
        """Stop ``name`` (its worker process too, if it has one)."""
        if not name.endswith(WORKER_SUFFIX):
            self.stop(worker_name(name), kill=kill)
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _choose_ports() -> dict[str, int]:
    ports = {}
    for spec in SERVICES:
        ports[spec.name] = spec.default_port if port_is_free(spec.default_port) else free_port()
    return ports


def _demo_tokens(keys_dir: Path) -> tuple[str, str]:
    from services.loan_intake.demo import DEMO_USCC

    day = timedelta(days=1)
    sme = TokenIssuer.from_keys_dir(keys_dir, issuer="loan_intake", ttl_seconds=900).issue(
        subject=DEMO_USCC, role=Role.SME, tenant=DEMO_USCC, ttl=day
    )
    bureau = TokenIssuer.from_keys_dir(keys_dir, issuer="bank_gateway", ttl_seconds=900).issue(
        subject="demo-bureau", role=Role.BUREAU, ttl=day
    )
    return sme, bureau


# The demo's stand-in for the city's identity platform (deploy/dev_identity.py), with which
# an SME account is verified in the portal ("通过一网通办核验").
DEV_IDENTITY_PORT = 8009


def _start_dev_identity(stack: LocalStack, port: int) -> None:
    callback = f"{stack.url('loan_intake')}/portal/verify/callback"
    assert stack.log_dir is not None
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    output = (stack.log_dir / "dev_identity.log").open("ab")
    command = [sys.executable, "-m", "deploy.dev_identity", "--port", str(port)]
    stack.processes["dev_identity"] = subprocess.Popen(  # noqa: S603 - our own module
        [*command, "--redirect-uri", callback],
        cwd=ROOT,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    from services.loan_intake.demo import DEMO_APPLICATION

    # Ctrl-C, also of a background job (whose shell ignores SIGINT for it), and SIGTERM
    # stop all three services: they run in sessions of their own and hear neither.
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    signal.signal(signal.SIGINT, _stop_on_sigterm)
    state_dir = ROOT / "var"
    data_dir = state_dir / "data"
    ports = _choose_ports()
    identity_port = DEV_IDENTITY_PORT if port_is_free(DEV_IDENTITY_PORT) else free_port()
    stack = LocalStack(
        state_dir=state_dir,
        database_urls={s.name: f"sqlite+aiosqlite:///{data_dir / s.name}.db" for s in SERVICES},
        ports=ports,
        log_dir=state_dir / "log",
        separate_workers=True,
        extra_env={
            "INTAKE_OIDC_ISSUER": f"http://127.0.0.1:{identity_port}",
            "INTAKE_OIDC_CLIENT_ID": "picidai",
            "INTAKE_OIDC_CLIENT_SECRET": "dev-idp-secret",
        },
    )
    try:
        print("准备中 (preparing): keys, migrations, demo data …", flush=True)
        fresh = not (data_dir / "bank_gateway.db").exists()
        for line in stack.prepare():
            print("  " + line)
        _start_dev_identity(stack, identity_port)
        stack.start_all()
        if fresh:  # a portfolio with a history, once, on new databases
            from deploy.demo_books import seed_books

            urls = {spec.name: stack.url(spec.name) for spec in SERVICES}
            print("  " + seed_books(stack.keys_dir, urls), flush=True)
        _print_welcome(stack, DEMO_APPLICATION)
        while True:
            for name, process in list(stack.processes.items()):
                if process.poll() is not None:
                    print(
                        f"{name} exited with {process.returncode}; see {stack.log_dir}/{name}.log"
                    )
                    return
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        print("\n正在停止 (stopping) …", flush=True)
        stack.stop_all()
        print("stopped.", flush=True)


def _print_welcome(stack: LocalStack, application: dict[str, object]) -> None:
    sme_token, bureau_token = _demo_tokens(stack.keys_dir)
    body = json.dumps(application, ensure_ascii=False)
    intake = stack.url("loan_intake")
    print()
    print("批次贷 platform is running, each service with its worker (Ctrl-C stops them all):")
    for spec in SERVICES:
        print(f"  {spec.name:<13} {stack.url(spec.name)}   docs: {stack.url(spec.name)}/docs")
    print(f"  logs          {stack.log_dir}/<service>.log, <service>.worker.log (background)")
    print(
        f"  模拟一网通办   {stack.extra_env.get('INTAKE_OIDC_ISSUER', '')}   "
        "(development identity platform: verifies a firm in the portal)"
    )
    print()
    print("In a browser (Chinese pages):")
    print(f"  企业端 SME portal       {intake}/portal/   (register any valid 统一社会信用代码)")
    print(
        f"  财政局工作台 console    {stack.url('bank_gateway')}/console/   "
        "(alice / dev-password-alice; approver carol / dev-password-carol)"
    )
    print(
        f"  担保基金工作台 claims  {stack.url('bank_gateway')}/console/   "
        "(reviewer dave / dev-password-dave; second reviewer erin / dev-password-erin)"
    )
    print()
    print("Demo SME token (24 h) and a ready-to-paste submission:")
    print(f"  export SME_TOKEN={sme_token}")
    print(
        f'  curl -s -X POST {intake}/v1/applications -H "Authorization: Bearer $SME_TOKEN" '
        f"-H 'Content-Type: application/json' -H \"Idempotency-Key: demo-$(date +%s)\" "
        f"-d {shlex.quote(body)}"
    )
    print("Then follow it (the Location header of the answer):")
    print(f'  curl -s {intake}/v1/applications -H "Authorization: Bearer $SME_TOKEN"')
    print("Bureau token (sees every application):")
    print(f"  export BUREAU_TOKEN={bureau_token}")
    print("A partner bank's token (OAuth2 client credentials; demo banks srcb, bosc):")
    print(
        f"  curl -s -X POST {stack.url('bank_gateway')}/oauth/token "
        "-u bank-srcb:dev-secret-srcb -d grant_type=client_credentials"
    )
    print(flush=True)


if __name__ == "__main__":
    main()
