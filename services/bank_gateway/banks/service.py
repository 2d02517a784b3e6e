"""Partner banks: registration, credentials (OAuth2 client secret, webhook signing secrets),
and what other domains need to know of a bank. Never commits, never HTTP."""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.bank_gateway.banks import repository as repo
from services.bank_gateway.banks.exceptions import BankExists, BankNotFound, OAuthError
from services.bank_gateway.banks.schemas import (
    BankCredentials,
    PartnerBankCreate,
    PartnerBankPublic,
    PartnerBankUpdate,
)
from services.bank_gateway.banks.webhook_urls import url_problem
from services.bank_gateway.models import AuditEntry, PartnerBank, SigningSecret
from shared import audit
from shared.auth import Principal, Role
from shared.clock import utcnow
from shared.errors import FieldError, ValidationFailed
from shared.passwords import hash_secret, secret_matches


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def new_signing_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes, as Standard Webhooks libraries expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def _public(session: AsyncSession, bank: PartnerBank) -> PartnerBankPublic:
    valid = await repo.valid_signing_secrets(session=session, bank_ids=[bank.id], now=utcnow())
    return PartnerBankPublic(
        id=bank.id,
        code=bank.code,
        name=bank.name,
        webhook_url=bank.webhook_url,
        active=bank.active,
        client_id=bank.client_id,
        client_secret_set_at=bank.client_secret_set_at,
        signing_secrets_valid=len(valid),
        created_at=bank.created_at,
    )


def _visible(principal: Principal, bank: PartnerBank | None) -> bool:
    # A bank sees itself only; anything else does not exist for it.
    return bank is not None and (principal.role is not Role.BANK or bank.code == principal.tenant)


async def list_banks(*, session: AsyncSession, principal: Principal) -> list[PartnerBankPublic]:
    banks = [b for b in await repo.list_banks(session=session) if _visible(principal, b)]
    return [await _public(session, b) for b in banks]


async def _load(
    session: AsyncSession, principal: Principal, code: str, *, lock: bool = False
) -> PartnerBank:
    bank = await repo.get_bank_by_code(session=session, code=code, for_update=lock)
    if bank is None or not _visible(principal, bank):
        raise BankNotFound(f"没有代码为 {code} 的合作银行")
    return bank


async def get_bank(*, session: AsyncSession, principal: Principal, code: str) -> PartnerBankPublic:
    return await _public(session, await _load(session, principal, code))


def _audit(
    session: AsyncSession, principal: Principal, action: str, bank: PartnerBank, **detail: object
) -> None:
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action=action,
        entity_type="partner_bank",
        entity_id=bank.code,
        detail=dict(detail),
        entity=bank,
    )


def _check_webhook(url: object, allow_private: bool) -> None:
    if url is None:
        return
    problem = url_problem(str(url), allow_private=allow_private)
    if problem is not None:
        raise ValidationFailed(
            problem,
            errors=[
                FieldError(
                    field="webhook_url",
                    message=problem,
                    message_en="the gateway does not call this address",
                    code="webhook_url_refused",
                )
            ],
        )


async def register_bank(
    *,
    session: AsyncSession,
    principal: Principal,
    payload: PartnerBankCreate,
    allow_private: bool = False,
) -> BankCredentials:
    """A new partner bank with its client credentials and signing secret, shown this once."""
    _check_webhook(payload.webhook_url, allow_private)
    if await repo.get_bank_by_code(session=session, code=payload.code) is not None:
        raise BankExists(f"银行代码 {payload.code} 已登记")
    client_secret = new_client_secret()
    bank = PartnerBank(
        code=payload.code,
        name=payload.name,
        webhook_url=str(payload.webhook_url) if payload.webhook_url else None,
        client_id=f"bank-{payload.code}",
        client_secret_hash=await hash_secret(client_secret),
        client_secret_set_at=utcnow(),
    )
    repo.add(session, bank)
    await session.flush()
    signing = SigningSecret(bank_id=bank.id, secret=new_signing_secret())
    repo.add(session, signing)
    await session.flush()
    _audit(
        session, principal, "bank.registered", bank, name=bank.name, webhook_url=bank.webhook_url
    )
    return BankCredentials(
        bank=await _public(session, bank),
        client_id=bank.client_id or "",
        client_secret=client_secret,
        signing_secret=signing.secret,
    )


async def update_bank(
    *,
    session: AsyncSession,
    principal: Principal,
    code: str,
    payload: PartnerBankUpdate,
    allow_private: bool = False,
) -> PartnerBankPublic:
    _check_webhook(payload.webhook_url, allow_private)
    bank = await _load(session, principal, code, lock=True)
    changes = payload.model_dump(exclude_unset=True, mode="json")
    for name, value in changes.items():
        setattr(bank, name, value)
    _audit(session, principal, "bank.updated", bank, **changes)
    return await _public(session, bank)


async def rotate_client_secret(
    *, session: AsyncSession, principal: Principal, code: str
) -> BankCredentials:
    """A new client secret; the old one stops working at once (tokens already issued run out)."""
    bank = await _load(session, principal, code, lock=True)
    if bank.client_id is None:
        bank.client_id = f"bank-{bank.code}"
    client_secret = new_client_secret()
    bank.client_secret_hash = await hash_secret(client_secret)
    bank.client_secret_set_at = utcnow()
    _audit(session, principal, "bank.client_secret_rotated", bank)
    return BankCredentials(
        bank=await _public(session, bank), client_id=bank.client_id, client_secret=client_secret
    )


async def rotate_signing_secret(
    *, session: AsyncSession, principal: Principal, code: str, overlap: timedelta
) -> BankCredentials:
    """A new signing secret; the current ones stay valid for ``overlap`` more."""
    bank = await _load(session, principal, code, lock=True)
    now = utcnow()
    retires_at = now + overlap
    for old in await repo.valid_signing_secrets(session=session, bank_ids=[bank.id], now=now):
        if old.retires_at is None or old.retires_at > retires_at:
            old.retires_at = retires_at
    signing = SigningSecret(bank_id=bank.id, secret=new_signing_secret())
    repo.add(session, signing)
    await session.flush()
    _audit(
        session,
        principal,
        "bank.signing_secret_rotated",
        bank,
        previous_retire_at=retires_at.isoformat(),
    )
    return BankCredentials(
        bank=await _public(session, bank),
        client_id=bank.client_id or "",
        signing_secret=signing.secret,
        signing_secret_previous_retires_at=retires_at,
    )


async def authenticate_client(
    *, session: AsyncSession, client_id: str, client_secret: str
) -> PartnerBank:
    """The active bank whose client credentials these are, or OAuthError (no hint which part
    was wrong)."""
    bank = await repo.get_bank_by_client_id(session=session, client_id=client_id)
    stored = bank.client_secret_hash if bank is not None else None
    ok = await secret_matches(client_secret, stored)
    if bank is None or not ok or not bank.active:
        raise OAuthError("客户端 ID 或密钥不正确，或该银行已停用")
    return bank


async def ensure_bank(
    *, session: AsyncSession, code: str, name: str, client_secret: str | None = None
) -> PartnerBank:
    """The demo seed: a bank with known development credentials (never in production)."""
    bank = await repo.get_bank_by_code(session=session, code=code)
    if bank is None:
        bank = PartnerBank(code=code, name=name)
        repo.add(session, bank)
        await session.flush()
    if not await repo.valid_signing_secrets(session=session, bank_ids=[bank.id], now=utcnow()):
        repo.add(session, SigningSecret(bank_id=bank.id, secret=new_signing_secret()))
    if client_secret is not None and bank.client_secret_hash is None:
        bank.client_id = f"bank-{code}"
        bank.client_secret_hash = await hash_secret(client_secret)
        bank.client_secret_set_at = utcnow()
    await session.flush()
    return bank


# --- what other domains need of a bank ----------------------------------------------------


async def all_banks(*, session: AsyncSession) -> list[PartnerBank]:
    """Every bank, by code (staff views: filters, names)."""
    return list(await repo.list_banks(session=session))


async def by_code(*, session: AsyncSession, code: str) -> PartnerBank | None:
    return await repo.get_bank_by_code(session=session, code=code)


async def by_id(*, session: AsyncSession, bank_id: uuid.UUID) -> PartnerBank:
    """A bank another record refers to (it exists: banks are never deleted)."""
    bank = await repo.get_bank(session=session, bank_id=bank_id)
    assert bank is not None, f"bank {bank_id} referred to but missing"
    return bank


async def webhook_targets(
    *, session: AsyncSession, bank_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, tuple[str | None, list[str]]]:
    """Per bank: its webhook URL and every signing secret valid now (a notification is
    signed with each, so a bank mid-rotation may check either)."""
    targets: dict[uuid.UUID, tuple[str | None, list[str]]] = {}
    for bank_id in bank_ids:
        bank = await repo.get_bank(session=session, bank_id=bank_id)
        targets[bank_id] = (bank.webhook_url if bank else None, [])
    for secret in await repo.valid_signing_secrets(session=session, bank_ids=bank_ids, now=now):
        targets[secret.bank_id][1].append(secret.secret)
    return targets


async def reseal_signing_secrets(*, session: AsyncSession) -> int:
    """After a sealing key rotation: every signing secret sealed with the new first key."""
    return await repo.reseal_signing_secrets(session=session)
