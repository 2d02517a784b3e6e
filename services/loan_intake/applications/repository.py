"""Every query of applications: submissions (one statement on PostgreSQL), their history,
idempotency keys, and the decisions and loan changes recorded (the hand-off outbox's own
queries are in outbox_repository.py)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from services.loan_intake.models import (
    Application,
    ApplicationEvent,
    Enterprise,
    IdempotencyRecord,
    OutboxMessage,
)
from shared.jobs import queue_work

# The hand-off worker's queue (shared/jobs.py wakes it when a submission commits).
HANDOFF_QUEUE = "loan_intake.assessments"
# The outbox topic of an application waiting for its assessment.
ASSESSMENT_TOPIC = "assessment.requested"
# … and of one never to be lent: it stops counting against the firm's cap (rules.LAPSING).
LAPSE_TOPIC = "assessment.lapsed"


async def get_enterprise(*, session: AsyncSession, uscc: str) -> Enterprise | None:
    result = await session.execute(select(Enterprise).where(Enterprise.uscc == uscc))
    return result.scalar_one_or_none()


def scope(tenant: str | None, account: int | None) -> list[Any]:
    """A firm's applications; of those, one portal account's (unverified accounts)."""
    return [
        *([Application.enterprise_uscc == tenant] if tenant is not None else []),
        *([Application.account_id == account] if account is not None else []),
    ]


async def get_application(
    *,
    session: AsyncSession,
    application_id: uuid.UUID,
    tenant: str | None = None,
    account: int | None = None,
    for_update: bool = False,
) -> Application | None:
    query = select(Application).where(Application.id == application_id, *scope(tenant, account))
    if for_update:
        query = query.with_for_update()
    result = await session.execute(query)
    return result.scalar_one_or_none()


async def recorded_update_ids(
    *, session: AsyncSession, update_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    result = await session.execute(
        sa.select(ApplicationEvent.update_id).where(col(ApplicationEvent.update_id).in_(update_ids))
    )
    return {u for u in result.scalars().all() if u is not None}


async def lock_applications(
    *, session: AsyncSession, application_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Application]:
    """The applications, locked in id order (two deliveries never cross)."""
    result = await session.execute(
        select(Application)
        .where(col(Application.id).in_(application_ids))
        .order_by(col(Application.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {a.id: a for a in result.scalars().all()}


async def list_events(
    *, session: AsyncSession, application_id: uuid.UUID
) -> Sequence[ApplicationEvent]:
    result = await session.execute(
        select(ApplicationEvent)
        .where(ApplicationEvent.application_id == application_id)
        .order_by(col(ApplicationEvent.id))
    )
    return result.scalars().all()


async def get_idempotency_record(
    *, session: AsyncSession, client: str, key: str
) -> IdempotencyRecord | None:
    result = await session.execute(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client == client, IdempotencyRecord.key == key
        )
    )
    return result.scalar_one_or_none()


async def delete_idempotency_records_before(*, session: AsyncSession, before: datetime) -> int:
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < before)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


_ENTERPRISE_REFRESHED = (
    "name",
    "registered_district",
    "industry_code",
    "sme_sector",
    "sme_size",
    "employees",
    "annual_revenue_fen",
    "total_assets_fen",
    "established_on",
    "flags",
    "updated_at",
)
_upserts: dict[str, Any] = {}


def _enterprise_upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT (uscc) DO UPDATE … RETURNING id, built once per dialect."""
    if dialect not in _upserts:
        table = Enterprise.__table__  # type: ignore[attr-defined]
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table)
        _upserts[dialect] = statement.on_conflict_do_update(
            index_elements=[table.c.uscc],
            set_={name: statement.excluded[name] for name in _ENTERPRISE_REFRESHED},
        ).returning(table.c.id)
    return _upserts[dialect]


_pg_submissions: dict[tuple[int, bool], sa.TextClause] = {}
# An event's place in the audit chain is given later (shared/audit.py), never on insert.
_SEALED_BY_THE_SEALER = ("chain_seq", "prev_hash", "chain_hash")


def _pg_submission(*, events: int, with_idempotency: bool) -> sa.TextClause:
    """The submission as one PostgreSQL statement, built once per shape from the tables."""
    key = (events, with_idempotency)
    if key in _pg_submissions:
        return _pg_submissions[key]
    binds: list[sa.BindParameter[Any]] = []

    def values(table: sa.Table, prefix: str, skip: tuple[str, ...] = ()) -> tuple[str, str]:
        # Serial keys are the database's to give.
        columns = [
            c
            for c in table.columns
            if c.name not in skip and not (c.primary_key and isinstance(c.type, sa.Integer))
        ]
        for c in columns:
            binds.append(sa.bindparam(f"{prefix}{c.name}", type_=c.type))
        names = ", ".join(c.name for c in columns)
        placeholders = ", ".join(f":{prefix}{c.name}" for c in columns)
        return names, placeholders

    enterprises = Enterprise.__table__  # type: ignore[attr-defined]
    applications = Application.__table__  # type: ignore[attr-defined]
    history = ApplicationEvent.__table__  # type: ignore[attr-defined]
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    keys = IdempotencyRecord.__table__  # type: ignore[attr-defined]

    e_names, e_values = values(enterprises, "e_")
    refreshed = ", ".join(f"{n} = EXCLUDED.{n}" for n in _ENTERPRISE_REFRESHED)
    # The number is the sequence's (the column's default on PostgreSQL).
    a_names, a_values = values(applications, "a_", skip=("enterprise_id", "number"))
    ev_names = ""
    ev_rows = []
    for index in range(events):
        ev_names, placeholders = values(history, f"ev{index}_", skip=_SEALED_BY_THE_SEALER)
        ev_rows.append(f"({placeholders})")
    o_names, o_values = values(outbox, "o_")
    # Only column names from our own table definitions are formatted in; every value is
    # a bound parameter.
    parts = [
        f"e AS (INSERT INTO enterprises ({e_names}) VALUES ({e_values})"  # noqa: S608
        f" ON CONFLICT (uscc) DO UPDATE SET {refreshed} RETURNING id)",
        f"a AS (INSERT INTO applications ({a_names}, enterprise_id)"  # noqa: S608
        f" VALUES ({a_values}, (SELECT id FROM e)) RETURNING number)",
        f"ev AS (INSERT INTO application_events ({ev_names}) VALUES {', '.join(ev_rows)})",  # noqa: S608
        f"o AS (INSERT INTO outbox_messages ({o_names}) VALUES ({o_values}))",  # noqa: S608
    ]
    if with_idempotency:
        i_names, i_values = values(keys, "i_")
        parts.append(
            f"i AS (INSERT INTO idempotency_keys ({i_names}) VALUES ({i_values}))"  # noqa: S608
        )
    statement = sa.text("WITH " + ",\n".join(parts) + "\nSELECT number FROM a").bindparams(*binds)
    _pg_submissions[key] = statement
    return statement


async def upsert_enterprise(
    *, session: AsyncSession, enterprise: dict[str, Any], now: datetime
) -> int:
    """Insert or refresh an enterprise in one statement, safe against a concurrent first insert."""
    dialect = session.get_bind().dialect.name
    result = await session.execute(
        _enterprise_upsert(dialect), {**enterprise, "created_at": now, "updated_at": now}
    )
    return int(result.scalar_one())


async def insert_submission(
    *,
    session: AsyncSession,
    enterprise: dict[str, Any],
    application: dict[str, Any],
    events: list[dict[str, Any]],
    outbox: dict[str, Any],
    idempotency: dict[str, Any] | None,
    now: datetime,
) -> int:
    """Write a submission's rows: enterprise, application, history, outbox, idempotency key;
    give the application's number.

    On PostgreSQL this is one statement (one round trip; data-modifying CTEs); on SQLite,
    which runs in process, five plain inserts.
    """
    queue_work(session, HANDOFF_QUEUE)
    if session.get_bind().dialect.name == "postgresql":
        statement = _pg_submission(events=len(events), with_idempotency=idempotency is not None)
        params: dict[str, Any] = {f"e_{k}": v for k, v in enterprise.items()}
        params.update({"e_created_at": now, "e_updated_at": now})
        params.update({f"a_{k}": v for k, v in application.items()})
        for index, event in enumerate(events):
            params.update({f"ev{index}_{k}": v for k, v in event.items()})
        params.update({f"o_{k}": v for k, v in outbox.items()})
        if idempotency is not None:
            params.update({f"i_{k}": v for k, v in idempotency.items()})
        return int((await session.execute(statement, params)).scalar_one())
    enterprise_id = await upsert_enterprise(session=session, enterprise=enterprise, now=now)
    table = Application.__table__  # type: ignore[attr-defined]
    # SQLite has one writer: the next number inside the insert cannot be taken twice.
    next_number = sa.select(sa.func.coalesce(sa.func.max(table.c.number), 0) + 1)
    await session.execute(
        sa.insert(table).values(number=next_number.scalar_subquery()),
        {**application, "enterprise_id": enterprise_id},
    )
    await session.execute(sa.insert(ApplicationEvent.__table__), events)  # type: ignore[attr-defined]
    await session.execute(sa.insert(OutboxMessage.__table__), outbox)  # type: ignore[attr-defined]
    if idempotency is not None:
        await session.execute(sa.insert(IdempotencyRecord.__table__), idempotency)  # type: ignore[attr-defined]
    return await number_of(session=session, application_id=application["id"])


async def number_of(*, session: AsyncSession, application_id: uuid.UUID) -> int:
    result = await session.execute(
        sa.select(Application.number).where(Application.id == application_id)
    )
    return int(result.scalar_one())


_ASSESSMENT_FIELDS = (
    "status",
    "decision",
    "score",
    "reasons",
    "terms",
    "assessment_id",
    "policy_version_id",
    "policy_name",
    "assessed_at",
    "updated_at",
)


async def lock_assessing(
    *, session: AsyncSession, application_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these applications still wait for their assessment (rows locked)."""
    if not application_ids:
        return set()
    result = await session.execute(
        select(Application.id)
        .where(col(Application.id).in_(application_ids), Application.status == "assessing")
        .with_for_update()
    )
    return set(result.scalars().all())


async def apply_assessments(
    *, session: AsyncSession, updates: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    if not updates:
        return
    table = Application.__table__  # type: ignore[attr-defined]
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("application_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in _ASSESSMENT_FIELDS})
    )
    await session.execute(
        statement,
        [
            {"application_id": u["id"], **{f"new_{n}": u[n] for n in _ASSESSMENT_FIELDS}}
            for u in updates
        ],
    )
    await session.execute(sa.insert(ApplicationEvent.__table__), events)  # type: ignore[attr-defined]


def add_event(session: AsyncSession, event: ApplicationEvent) -> None:
    session.add(event)


def add_lapse(session: AsyncSession, application_id: uuid.UUID) -> None:
    session.add(OutboxMessage(topic=LAPSE_TOPIC, aggregate_id=application_id, payload={}))
    queue_work(session, HANDOFF_QUEUE)


async def statuses_of(*, session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    result = await session.execute(
        sa.select(Application.id, Application.status).where(col(Application.id).in_(ids))
    )
    return {row.id: row.status for row in result}
