"""The tamper-evident audit chain: real flows leave an intact, sealed log with before and
after; an edited, deleted or re-ordered row is named as the first broken link, by the
verify command too; two sealers at once never fork the chain."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import audit
from shared.audit import GENESIS, AuditChain, AuditSealer, chain_key
from shared.db import make_engine, make_sessionmaker
from tests.bank_gateway.batches.test_batches import draft
from tests.bank_gateway.batches.test_opening import staff
from tests.bank_gateway.conftest import Desk
from tests.conftest import ROOT, Databases, make_uscc
from tests.loan_intake.portal.test_pages import registered

KEY = b"k" * 32


async def seal_everything(desk: Desk) -> None:
    for app in (desk.intake.app, desk.intake.guarantee_link.inner.app, desk.app):
        await app.state.audit_sealer.seal_once()


async def reports(app: Any) -> list[Any]:
    sealer: AuditSealer = app.state.audit_sealer
    async with app.state.sessionmaker() as session:
        return [await chain.verify(session) for chain in sealer.chains]


def as_json(value: Any) -> Any:
    """A JSON column read with plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


async def test_real_changes_are_logged_with_before_and_after_and_sealed(desk: Desk) -> None:
    batch = await draft(desk, "8000000.00")
    base = f"/v1/batches/{batch['id']}"
    await desk.gateway.post(f"{base}/submission", headers=staff(desk, "alice"))
    approved = await desk.gateway.post(
        f"{base}/approval", headers=staff(desk, "carol", approver=True)
    )
    assert approved.status_code == 200
    await desk.eligible_applications(1)
    uscc = make_uscc()
    signed_up = await registered(desk.intake.client, uscc)
    assert signed_up.status_code == 303
    await seal_everything(desk)

    for app in (desk.intake.app, desk.intake.guarantee_link.inner.app, desk.app):
        for report in await reports(app):
            assert report.intact, report.text()
            assert report.unsealed == 0 and report.sealed > 0

    async with desk.app.state.sessionmaker() as session:
        rows = (
            (
                await session.execute(
                    sa.text(
                        "SELECT action, actor, before, after, chain_seq FROM audit_log "
                        "WHERE entity_id = :id ORDER BY chain_seq"
                    ),
                    {"id": batch["id"]},
                )
            )
            .mappings()
            .all()
        )
    approval = next(r for r in rows if r["action"] == "batch.approved")
    before, after = as_json(approval["before"]), as_json(approval["after"])
    assert before["status"] == "pending_approval" and after["status"] == "approved"
    assert after["approved_by"] == "bureau:carol" and approval["actor"] == "bureau:carol"
    created = next(r for r in rows if r["action"] == "batch.drafted")
    assert as_json(created["before"]) is None and created["chain_seq"] < approval["chain_seq"]
    drafted = as_json(created["after"])
    assert drafted["status"] == "draft" and drafted["quota_fen"] == 800_000_000

    async with desk.intake.app.state.sessionmaker() as session:
        [account] = (
            (
                await session.execute(
                    sa.text("SELECT actor, action, after FROM audit_log WHERE entity_id = :u"),
                    {"u": uscc},
                )
            )
            .mappings()
            .all()
        )
    assert (account["actor"], account["action"]) == (f"sme:{uscc}", "account.registered")
    assert as_json(account["after"])["password_hash"] == "[redacted]"


@pytest.fixture
async def chain_db(databases: Databases) -> Any:
    """A gateway database of its own, with 12 audit entries sealed."""
    url = databases.new(f"audit_{os.urandom(3).hex()}", migrate="bank_gateway")
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    from services.bank_gateway.main import audit_chains
    from services.bank_gateway.models import AuditEntry

    async with sessionmaker() as session, session.begin():
        for n in range(12):
            audit.append(
                session,
                AuditEntry,
                actor=f"bureau:user{n % 3}",
                action="batch.approved",
                entity_type="batch",
                entity_id=f"b{n}",
                detail={"quota": f"{n}000.00", "n": n},
            )
    [chain] = audit_chains(KEY)
    assert await AuditSealer([chain], sessionmaker).seal_once() == 12
    yield url, sessionmaker, chain
    await engine.dispose()


async def verify(sessionmaker: Any, chain: AuditChain) -> Any:
    async with sessionmaker() as session:
        return await chain.verify(session)


async def run_sql(sessionmaker: Any, sql: str, **params: Any) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(sa.text(sql), params)


async def test_an_edited_row_is_the_first_broken_link(chain_db: Any) -> None:
    _, sessionmaker, chain = chain_db
    intact = await verify(sessionmaker, chain)
    assert intact.intact and intact.sealed == 12 and intact.head_hash != GENESIS

    await run_sql(sessionmaker, "UPDATE audit_log SET actor = 'bureau:mallory' WHERE chain_seq = 5")
    report = await verify(sessionmaker, chain)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason_en) == (5, "the row's content was changed")
    assert "第 5 环" in report.text()

    await run_sql(sessionmaker, "UPDATE audit_log SET actor = 'bureau:user1' WHERE chain_seq = 5")
    assert (await verify(sessionmaker, chain)).intact


async def test_a_deleted_or_relinked_row_breaks_the_chain(chain_db: Any) -> None:
    _, sessionmaker, chain = chain_db
    await run_sql(sessionmaker, "DELETE FROM audit_log WHERE chain_seq = 7")
    report = await verify(sessionmaker, chain)
    assert report.broken is not None and report.broken.seq == 7
    assert report.broken.reason_en.startswith("link missing")

    # Re-numbering the rest to hide the gap leaves the links pointing at the wrong hashes.
    await run_sql(
        sessionmaker, "UPDATE audit_log SET chain_seq = chain_seq - 1 WHERE chain_seq > 7"
    )
    report = await verify(sessionmaker, chain)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason_en) == (7, "does not follow the link before it")


async def test_new_rows_extend_the_chain_and_a_wrong_key_sees_every_link_as_forged(
    chain_db: Any,
) -> None:
    _, sessionmaker, chain = chain_db
    from services.bank_gateway.main import audit_chains
    from services.bank_gateway.models import AuditEntry

    async with sessionmaker() as session, session.begin():
        audit.append(
            session,
            AuditEntry,
            actor="admin:root",
            action="bank.updated",
            entity_type="partner_bank",
            entity_id="srcb",
            detail={},
        )
    assert (await verify(sessionmaker, chain)).unsealed == 1
    assert await AuditSealer([chain], sessionmaker).seal_once() == 1
    report = await verify(sessionmaker, chain)
    assert report.intact and (report.sealed, report.unsealed) == (13, 0)

    [forger] = audit_chains(b"x" * 32)
    forged = await verify(sessionmaker, forger)
    assert forged.broken is not None and forged.broken.seq == 1


async def test_two_sealers_at_once_never_fork_the_chain(chain_db: Any) -> None:
    _, sessionmaker, chain = chain_db
    from services.bank_gateway.models import AuditEntry

    async with sessionmaker() as session, session.begin():
        for n in range(300):
            audit.append(
                session,
                AuditEntry,
                actor="system:test",
                action="loan.ledger_changed",
                entity_type="batch_loan",
                entity_id=f"l{n}",
                detail={"n": n},
            )
    sealers = [AuditSealer([chain], sessionmaker) for _ in range(2)]
    await asyncio.gather(*(sealer.seal_once() for sealer in sealers))
    report = await verify(sessionmaker, chain)
    assert report.intact, report.text()
    assert (report.sealed, report.unsealed) == (312, 0)


async def test_the_verify_command_names_the_broken_link(
    chain_db: Any, keys_dir: Path, tmp_path: Path
) -> None:
    url, sessionmaker, _ = chain_db
    from services.bank_gateway.main import audit_chains

    # The command derives the key from the service's own signing key: seal with that one.
    await run_sql(
        sessionmaker, "UPDATE audit_log SET chain_seq = NULL, prev_hash = NULL, chain_hash = NULL"
    )
    [chain] = audit_chains(chain_key(keys_dir, "bank_gateway"))
    await AuditSealer([chain], sessionmaker).seal_once()
    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_KEYS_DIR": str(keys_dir),
        "GATEWAY_LOG_LEVEL": "WARNING",
    }

    def command() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.bank_gateway", "audit-verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    fine = await asyncio.to_thread(command)
    assert fine.returncode == 0, fine.stderr
    assert "intact" in fine.stdout and "12 sealed" in fine.stdout
    await run_sql(sessionmaker, "UPDATE audit_log SET entity_id = 'forged' WHERE chain_seq = 3")
    broken = await asyncio.to_thread(command)
    assert broken.returncode == 1
    assert "BROKEN at link 3" in broken.stdout and "第 3 环" in broken.stdout


def _rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i + 1, "actor": f"a{i % 4}", "detail": {"amount": f"{i}.00", "items": [i, i + 1]}}
        for i in range(n)
    ]


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=30),
    data=st.data(),
)
def test_any_single_edit_is_found_exactly_where_it_was_made(n: int, data: Any) -> None:
    table = sa.Table(
        "log",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor", sa.String),
        sa.Column("detail", sa.JSON),
        sa.Column("chain_seq", sa.BigInteger),
        sa.Column("prev_hash", sa.String),
        sa.Column("chain_hash", sa.String),
    )
    chain = AuditChain(table, order_by="id", content=("id", "actor", "detail"), key=KEY)
    rows = _rows(n)
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        row.update(chain_seq=seq, prev_hash=prev, chain_hash=chain.digest(seq, prev, row))
        prev = row["chain_hash"]
    assert chain._walk(rows, 0, GENESIS)[0] is None

    victim = data.draw(st.integers(min_value=0, max_value=n - 1))
    field = data.draw(st.sampled_from(["actor", "detail", "id", "prev_hash", "chain_hash"]))
    edited = [dict(r) for r in rows]
    if field == "detail":
        edited[victim]["detail"] = {**edited[victim]["detail"], "amount": "999999.99"}
    elif field == "id":
        edited[victim]["id"] += 1000
    else:
        edited[victim][field] = data.draw(
            st.text(min_size=1, max_size=64).filter(lambda v, old=edited[victim][field]: v != old)
        )
    broken = chain._walk(edited, 0, GENESIS)[0]
    assert broken is not None and broken.seq == victim + 1
