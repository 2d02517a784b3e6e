"""A bank's callbacks are signed per Standard Webhooks: who is calling, and does it hold?"""

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from services.bank_gateway.banks import repository as repo
from services.bank_gateway.banks.exceptions import SignatureInvalid
from shared.clock import utcnow
from shared.errors import Unauthenticated


@dataclass(frozen=True)
class CallerBank:
    """A bank as its callbacks need it."""

    id: uuid.UUID
    code: str
    active: bool
    secrets: tuple[tuple[str, datetime | None], ...]  # (secret, retires at)

    def valid_secrets(self, now: datetime) -> list[str]:
        return [secret for secret, retires in self.secrets if retires is None or retires > now]


class CallerBanks:
    """Banks and their signing secrets, kept a few seconds: two queries less per callback.

    A signature that fails against the kept secrets is checked once more against fresh ones,
    so a rotation counts at once; a secret's retirement is checked against the clock; only
    deactivating a bank takes up to ``ttl_seconds`` to be seen."""

    def __init__(self, ttl_seconds: float = 10.0) -> None:
        self._ttl = ttl_seconds
        self._kept: dict[str, tuple[float, CallerBank | None]] = {}

    async def get(
        self, session: AsyncSession, code: str, *, fresh: bool = False
    ) -> CallerBank | None:
        kept = self._kept.get(code)
        if kept is not None and not fresh and kept[0] > time.monotonic():
            return kept[1]
        bank = await repo.get_bank_by_code(session=session, code=code)
        found = None
        if bank is not None:
            secrets = await repo.valid_signing_secrets(
                session=session, bank_ids=[bank.id], now=utcnow()
            )
            found = CallerBank(
                id=bank.id,
                code=bank.code,
                active=bank.active,
                secrets=tuple((s.secret, s.retires_at) for s in secrets),
            )
        self._kept[code] = (time.monotonic() + self._ttl, found)
        return found


def _signature_holds(bank: CallerBank, body: bytes, headers: Mapping[str, str]) -> bool:
    wanted = {
        k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    for secret in bank.valid_secrets(utcnow()):
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
        except Exception:  # noqa: S112 - malformed headers raise several types
            continue
        return True
    return False


async def verify_signature(
    *,
    session: AsyncSession,
    banks: CallerBanks,
    code: str,
    body: bytes,
    headers: Mapping[str, str],
) -> CallerBank:
    """The calling bank, once its Standard Webhooks signature holds: HMAC over
    ``{id}.{timestamp}.{raw body}`` with any valid secret, timestamp within ±5 minutes.
    Anything wrong — forged, stale, malformed — is a 401."""
    bank = await banks.get(session, code)
    if bank is not None and bank.active and _signature_holds(bank, body, headers):
        return bank
    bank = await banks.get(session, code, fresh=True)  # rotated a moment ago?
    if bank is None or not bank.active:
        raise Unauthenticated("该银行不存在或已停用")
    if _signature_holds(bank, body, headers):
        return bank
    raise SignatureInvalid(
        "签名无效、已过期或缺失 (webhook-id / webhook-timestamp / webhook-signature)"
    )
