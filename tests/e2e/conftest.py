from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local import SERVICES, LocalStack, free_port, worker_name
from tests.conftest import Databases, Tokens


@pytest.fixture(scope="module")
def stack(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LocalStack]:
    """The three services as real processes on free loopback ports, with fresh databases; a
    module with ``SEPARATE_WORKERS = True`` gets each service's background work in a worker
    process of its own, as ``make run`` starts them."""
    state = tmp_path_factory.mktemp("stack")
    label = state.name.replace("-", "_")
    stack = LocalStack(
        state_dir=state,
        database_urls={s.name: databases.new(f"{label}_{s.name}") for s in SERVICES},
        ports={s.name: free_port() for s in SERVICES},
        log_dir=state / "log",
        separate_workers=getattr(request.module, "SEPARATE_WORKERS", False),
        extra_env={
            "INTAKE_OUTBOX_POLL_SECONDS": "0.2",
            "GATEWAY_OUTBOX_POLL_SECONDS": "0.2",
            "GATEWAY_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
            "GATEWAY_WEBHOOK_BACKOFF_CAP_SECONDS": "1.0",
            "INTAKE_OUTBOX_BACKOFF_BASE_SECONDS": "0.2",
            "INTAKE_OUTBOX_BACKOFF_CAP_SECONDS": "1.0",
            "INTAKE_LOG_JSON": "true",
            "GUARANTEE_LOG_JSON": "true",
            "GATEWAY_LOG_JSON": "true",
        },
    )
    stack.prepare()
    stack.start_all()
    try:
        yield stack
    finally:
        stack.stop_all()


@pytest.fixture(scope="module")
def stack_tokens(stack: LocalStack) -> Tokens:
    return Tokens(stack.keys_dir)


def log_lines(stack: LocalStack, service: str) -> list[str]:
    """What the service's processes logged: ``serve``'s, then its worker's if it has one."""
    assert stack.log_dir is not None
    lines = []
    for name in (service, worker_name(service)):
        path = Path(stack.log_dir) / f"{name}.log"
        lines += path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return lines
