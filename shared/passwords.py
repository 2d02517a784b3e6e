"""Passwords and client secrets: argon2id hashes (pwdlib), checked off the event loop.

A check costs ~130–230 ms of CPU here, so it runs in a thread; an unknown account is
checked against a dummy hash, so a refusal takes as long whether or not the account exists.
"""

import asyncio

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
_DUMMY = _hasher.hash("no such account")


async def hash_secret(secret: str) -> str:
    return await asyncio.to_thread(_hasher.hash, secret)


async def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Whether ``secret`` matches ``stored_hash``; False, as slowly, when there is none."""
    ok = await asyncio.to_thread(_hasher.verify, secret, stored_hash or _DUMMY)
    return ok and stored_hash is not None
