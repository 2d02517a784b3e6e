"""A forgotten password, reset through the verified contact: a six-digit code sent to the
phone a verified account gave, hashed, ten minutes, five tries, used once. Asking never
tells whether the firm, the phone or an account exists. Never commits."""

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.accounts import repository as repo
from services.loan_intake.accounts.exceptions import ResetFailed
from services.loan_intake.accounts.schemas import NewPassword
from services.loan_intake.accounts.service import ACCOUNTS_PER_FIRM, audit_account
from services.loan_intake.models import EnterpriseAccount, PasswordReset
from shared.clock import utcnow
from shared.outbound import Channel
from shared.passwords import hash_secret, secret_matches

CODE_MINUTES = 10
MAX_TRIES = 5


async def request_code(*, session: AsyncSession, channel: Channel, uscc: str, phone: str) -> None:
    """Send a code if ``phone`` is a verified account's of the firm; nothing otherwise."""
    accounts = await repo.accounts_of(
        session=session, uscc=uscc.strip().upper(), limit=ACCOUNTS_PER_FIRM
    )
    account = next(
        (a for a in accounts if a.verified_at is not None and a.contact_phone == phone.strip()),
        None,
    )
    code = f"{secrets.randbelow(10**6):06d}"
    # Hashed whether or not anyone gets it: the answer's time tells nothing either.
    code_hash = await hash_secret(code)
    if account is None or account.id is None:
        return
    session.add(
        PasswordReset(
            account_id=account.id,
            code_hash=code_hash,
            expires_at=utcnow() + timedelta(minutes=CODE_MINUTES),
        )
    )
    await session.flush()
    await channel.send(
        to=account.contact_phone,
        text=f"【青浦区批次贷】您的密码重置验证码为 {code}，{CODE_MINUTES} 分钟内有效。"
        "如非本人操作，请忽略本短信。",
        purpose="password_reset",
    )
    audit_account(session, account, "account.password_reset_requested")


async def reset(*, session: AsyncSession, change: NewPassword) -> EnterpriseAccount:
    """Set the new password if the code is one of the firm's open codes; count a try else."""
    accounts = {
        a.id: a
        for a in await repo.accounts_of(
            session=session, uscc=change.uscc.upper(), limit=ACCOUNTS_PER_FIRM
        )
        if a.verified_at is not None
    }
    now = utcnow()
    for open_code in await repo.open_resets(
        session=session, account_ids=[i for i in accounts if i], now=now, max_tries=MAX_TRIES
    ):
        if await secret_matches(change.code, open_code.code_hash):
            account = accounts[open_code.account_id]
            open_code.used_at = now
            account.password_hash = await hash_secret(change.password)
            audit_account(session, account, "account.password_reset")
            return account
        open_code.attempts += 1
    raise ResetFailed("验证码不正确或已过期：请重新获取验证码")
