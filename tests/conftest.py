"""Fixtures shared by every suite.

The database is SQLite (a fresh file per service per test session) unless
``TEST_DATABASE_URL`` names a PostgreSQL server, e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``: then each service gets a
database of its own on that server, created here and dropped at the end.
"""

import asyncio
import concurrent.futures
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa

from shared.auth import APPROVE_PERMISSION, ISSUERS, Role, TokenIssuer, generate_keypair
from shared.migrate import upgrade
from shared.uscc import ALPHABET, check_character

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = {name: ROOT / "services" / name / "migrations" for name in ISSUERS}


def server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    url = server_url()
    return bool(url and url.startswith("postgresql"))


def off_loop(function: Callable[..., Any], *args: Any) -> Any:
    """Run ``function`` in a thread of its own, so it may call ``asyncio.run`` even when a
    fixture asks for it from inside the test session's running event loop."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


class Databases:
    """Creates one migrated database per name; drops them at the end on PostgreSQL."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.prefix = f"picidai_t{os.getpid()}_{random.randrange(10**6)}"
        self.created: list[str] = []

    def _admin_dsn(self) -> str:
        url = sa.engine.make_url(server_url() or "")
        return url.set(drivername="postgresql").render_as_string(hide_password=False)

    def new(self, label: str, *, migrate: str | None = None) -> str:
        """A fresh database URL; migrated with service ``migrate``'s chain if given."""
        if is_postgres():
            name = f"{self.prefix}_{label}"
            off_loop(asyncio.run, self._create(name))
            self.created.append(name)
            url = sa.engine.make_url(server_url() or "").set(database=name)
            db_url = url.render_as_string(hide_password=False)
        else:
            db_url = f"sqlite+aiosqlite:///{self.tmp / label}.db"
        if migrate:
            off_loop(upgrade, MIGRATIONS[migrate], db_url)
        return db_url

    async def _create(self, name: str) -> None:
        connection = await asyncpg.connect(self._admin_dsn())
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def _drop_all(self) -> None:
        connection = await asyncpg.connect(self._admin_dsn())
        try:
            for name in self.created:
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    def drop_all(self) -> None:
        if self.created:
            off_loop(asyncio.run, self._drop_all())


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    registry = Databases(tmp_path_factory.mktemp("db"))
    yield registry
    registry.drop_all()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    for issuer in ISSUERS:
        generate_keypair(directory, issuer)
    return directory


class Tokens:
    def __init__(self, keys_dir: Path) -> None:
        self._issuers = {
            name: TokenIssuer.from_keys_dir(keys_dir, issuer=name, ttl_seconds=900)
            for name in ISSUERS
        }

    def sme(self, uscc: str) -> str:
        return self._issuers["loan_intake"].issue(subject=uscc, role=Role.SME, tenant=uscc)

    def bureau(self, subject: str = "bureau-alice", *, approver: bool = False) -> str:
        return self._issuers["bank_gateway"].issue(
            subject=subject,
            role=Role.BUREAU,
            permissions={APPROVE_PERMISSION} if approver else set(),
        )

    def fund(self, subject: str = "fund-dave", *, approver: bool = False) -> str:
        """A reviewer of the guarantee fund (担保基金): claims."""
        return self._issuers["bank_gateway"].issue(
            subject=subject,
            role=Role.FUND,
            permissions={APPROVE_PERMISSION} if approver else set(),
        )

    def admin(self) -> str:
        return self._issuers["bank_gateway"].issue(subject="admin", role=Role.ADMIN)

    def bank(self, code: str) -> str:
        return self._issuers["bank_gateway"].issue(subject=code, role=Role.BANK, tenant=code)

    def service(self, name: str) -> str:
        return self._issuers[name].service_token()

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def tokens(keys_dir: Path) -> Tokens:
    return Tokens(keys_dir)


def make_uscc(region: str = "310118", rng: random.Random | None = None) -> str:
    """A valid 统一社会信用代码 with a random organisation code."""
    rng = rng or random.Random()
    body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)


@pytest.fixture
def new_uscc() -> Callable[..., str]:
    return make_uscc


def application_body(uscc: str, **overrides: Any) -> dict[str, Any]:
    """A valid application; ``enterprise__x=…`` / ``loan__x=…`` override one field."""
    body: dict[str, Any] = {
        "enterprise": {
            "name": "上海青浦测试制造有限公司",
            "uscc": uscc,
            "registered_district": "青浦区",
            "sector": "C39",
            "employees": 80,
            "annual_revenue": "12000000.00",
            "total_assets": "9000000.00",
            "established_on": "2018-03-01",
            "flags": {"high_tech": True},
        },
        "loan": {
            "amount": "2000000.00",
            "term_months": 12,
            "purpose": "购置生产设备",
            "preferred_bank": "上海农商银行",
        },
    }
    for key, value in overrides.items():
        part, field = key.split("__", 1)
        if value is _DROP:
            body[part].pop(field)
        else:
            body[part][field] = value
    return body


_DROP = object()
DROP = _DROP


@pytest.fixture
def unique_key() -> Callable[[], str]:
    return lambda: uuid.uuid4().hex


async def lifespan(app: Any) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


def client_address() -> tuple[str, int]:
    """A caller address of its own: the sign-in and registration throttles persist in the
    session's databases, so each test's client is a different person at a different desk."""
    return (f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}", 50000)


def asgi_client(app: Any, base_url: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client_address())
    return httpx.AsyncClient(transport=transport, base_url=base_url)


# --- the three services, in process ----------------------------------------------------


class SwitchableTransport(httpx.AsyncBaseTransport):
    """The network between two in-process services, which a test can cut."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.down:
            raise httpx.ConnectError("connection refused (guarantee service down)", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture(scope="session")
def guarantee_db(databases: Databases) -> str:
    from services.guarantee.config import Settings
    from services.guarantee.demo import seed

    url = databases.new("guarantee", migrate="guarantee")
    off_loop(asyncio.run, seed(Settings(database_url=url)))
    return url


@pytest.fixture(scope="session")
def intake_db(databases: Databases) -> str:
    return databases.new("loan_intake", migrate="loan_intake")


@pytest.fixture(scope="session")
def gateway_db(databases: Databases, keys_dir: Path) -> str:
    from services.bank_gateway.config import Settings
    from services.bank_gateway.demo import seed

    url = databases.new("bank_gateway", migrate="bank_gateway")
    # With the suite's keys: the demo banks' signing secrets are sealed with its sealing key.
    off_loop(asyncio.run, seed(Settings(database_url=url, keys_dir=keys_dir)))
    return url


@pytest.fixture
async def session_issuer(gateway_db: str, keys_dir: Path) -> AsyncIterator[Any]:
    """The gateway as the issuer of clerks' and banks' tokens, which the guarantee service
    and intake ask whether a session still stands (shared/sessions.py). No workers."""
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    app = create_app(
        Settings(
            database_url=gateway_db,
            keys_dir=keys_dir,
            environment="test",
            run_outbox_worker=False,
            run_audit_sealer=False,
            session_cache_seconds=0,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def guarantee_app(
    guarantee_db: str, keys_dir: Path, session_issuer: Any
) -> AsyncIterator[Any]:
    from services.guarantee.main import create_app

    # The what-if and claim-notice workers poll the database; a test that needs them steps
    # them by hand (claim notices reach the gateway that issues sessions). Every
    # session is confirmed with the gateway on every request (no cache): tests see at once.
    app = create_app(
        fund_settings(guarantee_db, keys_dir),
        gateway_transport=httpx.ASGITransport(app=session_issuer),
    )
    async with app.router.lifespan_context(app):
        yield app


def fund_settings(database_url: str, keys_dir: Path) -> Any:
    """The guarantee service as a test drives it: no workers, every session confirmed."""
    from services.guarantee.config import Settings

    return Settings(
        database_url=database_url,
        keys_dir=keys_dir,
        environment="test",
        run_whatif_worker=False,
        run_claim_notice_worker=False,
        gateway_url="http://gateway",
        session_cache_seconds=0,
    )


@pytest.fixture
async def guarantee_client(guarantee_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(guarantee_app, "http://guarantee") as client:
        yield client


class IntakeHarness:
    def __init__(self, app: Any, client: httpx.AsyncClient, link: SwitchableTransport) -> None:
        self.app = app
        self.client = client
        self.guarantee_link = link

    @property
    def dispatcher(self) -> Any:
        return self.app.state.dispatcher

    async def drain(self, rounds: int = 10) -> None:
        """Run the outbox until nothing is due (what the background worker does)."""
        for _ in range(rounds):
            if await self.dispatcher.step() == 0:
                return


def intake_settings(intake_db: str, keys_dir: Path, **overrides: Any) -> Any:
    from services.loan_intake.config import Settings

    values: dict[str, Any] = {
        "database_url": intake_db,
        "keys_dir": keys_dir,
        "environment": "test",
        "guarantee_url": "http://guarantee",
        "gateway_url": "http://gateway",
        "session_cache_seconds": 0,
        "run_outbox_worker": False,
        "outbox_backoff_base_seconds": 0.0,
        "outbox_backoff_cap_seconds": 0.0,
        # What the platform "sends" (SMS codes) lands here; tests read it (shared/outbound.py).
        "outbound_sink_path": str(keys_dir / "outbound.jsonl"),
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def intake(
    intake_db: str, keys_dir: Path, guarantee_app: Any, session_issuer: Any
) -> AsyncIterator[IntakeHarness]:
    from services.loan_intake.main import create_app

    link = SwitchableTransport(httpx.ASGITransport(app=guarantee_app))
    app = create_app(
        intake_settings(intake_db, keys_dir),
        guarantee_transport=link,
        gateway_transport=httpx.ASGITransport(app=session_issuer),
    )
    async with app.router.lifespan_context(app), asgi_client(app, "http://intake") as client:
        yield IntakeHarness(app, client, link)


@pytest.fixture
async def gateway_client(gateway_db: str, keys_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    from services.bank_gateway.config import Settings
    from services.bank_gateway.main import create_app

    app = create_app(
        Settings(
            database_url=gateway_db, keys_dir=keys_dir, environment="test", session_cache_seconds=0
        )
    )
    async with app.router.lifespan_context(app), asgi_client(app, "http://gateway") as client:
        yield client
