"""Tokens: Ed25519-signed JWTs (pyjwt), verified with the issuers' public keys.

Whoever holds an account issues its token (DESIGN.md §7): loan_intake issues ``sme``
tokens (tenant = the enterprise's USCC), bank_gateway issues ``bureau``, ``bank`` and
``admin`` tokens. Every service also issues ``service`` tokens for its own calls to the
others. A verifier accepts a role only from the issuer that owns it, so a compromised
intake key cannot mint a bureau token.

Keys live in a directory (``keys_dir``): ``<issuer>.pem`` is that issuer's private key
(only on the issuer), ``<issuer>.pub.pem`` the public keys everyone may read.
"""

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import ApprovePermissionRequired, Forbidden, Unauthenticated

ALGORITHM = "EdDSA"
PLATFORM_AUDIENCE = "picidai"
ISSUERS = ("loan_intake", "guarantee", "bank_gateway")


class Role(StrEnum):
    SME = "sme"
    BUREAU = "bureau"
    BANK = "bank"
    ADMIN = "admin"
    # The guarantee fund's staff (担保基金): review claims (代偿) and record their payment.
    FUND = "fund"
    SERVICE = "service"


# The only issuer whose word counts for each human role; service tokens come from any
# issuer, and then name that issuer as their subject.
ROLE_ISSUER: dict[Role, str] = {
    Role.SME: "loan_intake",
    Role.BUREAU: "bank_gateway",
    Role.BANK: "bank_gateway",
    Role.ADMIN: "bank_gateway",
    Role.FUND: "bank_gateway",
}

# A bureau user holding this permission may be the second pair of eyes on approvals.
APPROVE_PERMISSION = "approve"
# An SME account whose hold on its firm is proven (the city's identity platform, or a
# clerk): it sees all of its firm's applications, not only those it submitted.
VERIFIED_PERMISSION = "verified"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    issuer: str
    tenant: str | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None
    # The sign-in this token belongs to (``sid``; renewed cookies share it), else the
    # token's own id: what signing out revokes (shared/sessions.py).
    session: str | None = None
    # An SME portal account (``acct``): several people may hold accounts of one firm; until
    # the account is verified it sees only what it submitted itself (loan_intake).
    account: str | None = None

    @property
    def actor(self) -> str:
        """How this principal appears in history and audit lines."""
        return f"{self.role.value}:{self.subject}"


def generate_keypair(directory: Path, issuer: str) -> None:
    """Write ``<issuer>.pem`` and ``<issuer>.pub.pem`` unless they exist (development)."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / f"{issuer}.pem"
    public_path = directory / f"{issuer}.pub.pem"
    if private_path.exists() and public_path.exists():
        return
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class TokenIssuer:
    def __init__(self, *, issuer: str, private_key: Ed25519PrivateKey, ttl: timedelta) -> None:
        self.issuer = issuer
        self._key = private_key
        self.ttl = ttl

    @classmethod
    def from_keys_dir(cls, keys_dir: Path, *, issuer: str, ttl_seconds: int) -> "TokenIssuer":
        key = serialization.load_pem_private_key((keys_dir / f"{issuer}.pem").read_bytes(), None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{issuer}.pem is not an Ed25519 private key")
        return cls(issuer=issuer, private_key=key, ttl=timedelta(seconds=ttl_seconds))

    def issue(
        self,
        *,
        subject: str,
        role: Role,
        tenant: str | None = None,
        permissions: frozenset[str] | set[str] = frozenset(),
        name: str | None = None,
        ttl: timedelta | None = None,
        session: str | None = None,
        account: str | None = None,
    ) -> str:
        if role is not Role.SERVICE and ROLE_ISSUER[role] != self.issuer:
            raise ValueError(f"{self.issuer} does not issue {role} tokens")
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": PLATFORM_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + (ttl or self.ttl),
            "jti": uuid.uuid4().hex,
            "role": role.value,
        }
        if tenant is not None:
            claims["tenant"] = tenant
        if permissions:
            claims["perms"] = sorted(permissions)
        if name:
            claims["name"] = name
        if session:
            claims["sid"] = session
        if account:
            claims["acct"] = account
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.issuer})

    def service_token(self) -> str:
        return self.issue(subject=self.issuer, role=Role.SERVICE)


class TokenVerifier:
    # A client sends the same token with every request until it expires: verify it once.
    CACHE_SIZE = 4096

    def __init__(self, public_keys: dict[str, Ed25519PublicKey]) -> None:
        self._keys = public_keys
        self._verified: OrderedDict[str, tuple[int, Principal]] = OrderedDict()

    @classmethod
    def from_keys_dir(
        cls, keys_dir: Path, *, issuers: tuple[str, ...] = ISSUERS
    ) -> "TokenVerifier":
        keys: dict[str, Ed25519PublicKey] = {}
        for issuer in issuers:
            path = keys_dir / f"{issuer}.pub.pem"
            if path.exists():
                key = serialization.load_pem_public_key(path.read_bytes())
                if not isinstance(key, Ed25519PublicKey):
                    raise ValueError(f"{path} is not an Ed25519 public key")
                keys[issuer] = key
        return cls(keys)

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            expires_at, principal = cached
            if time.time() < expires_at:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, expires_at = self._verify(token)
        self._verified[token] = (expires_at, principal)
        if len(self._verified) > self.CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, int]:
        try:
            issuer = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(issuer) if isinstance(issuer, str) else None
            if key is None:
                raise Unauthenticated("令牌签发方不受信任 (token issuer not trusted)")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=PLATFORM_AUDIENCE,
                issuer=issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("令牌已过期 (token expired)") from None
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"令牌无效 (invalid token: {type(exc).__name__})") from None
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthenticated("令牌角色无效 (unknown role)") from None
        if role is Role.SERVICE:
            if claims["sub"] != issuer:
                raise Unauthenticated("服务令牌主体与签发方不符 (service token subject mismatch)")
        elif ROLE_ISSUER[role] != issuer:
            raise Unauthenticated(f"{issuer} 无权签发 {role} 令牌 (issuer not allowed for role)")
        tenant = claims.get("tenant")
        if role in (Role.SME, Role.BANK) and not tenant:
            raise Unauthenticated("令牌缺少租户 (token without tenant)")
        principal = Principal(
            subject=str(claims["sub"]),
            role=role,
            issuer=issuer,
            tenant=tenant,
            permissions=frozenset(claims.get("perms", [])),
            name=claims.get("name"),
            session=str(claims.get("sid") or claims.get("jti") or "")[:64] or None,
            account=str(claims["acct"])[:40] if claims.get("acct") else None,
        )
        return principal, int(claims["exp"])


_bearer = HTTPBearer(auto_error=False, description="JWT issued by loan_intake or bank_gateway")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("缺少 Bearer 令牌 (missing bearer token)")
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify(credentials.credentials)


def require_roles(*roles: Role, services: tuple[str, ...] = ()) -> Any:
    """A dependency that yields the principal if its role is one of ``roles``, else 403.
    With ``services``, a service token passes only when it is one of those services'."""
    allowed = frozenset(roles) | ({Role.SERVICE} if services else set())
    callers = frozenset(services)

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Principal:
        is_other_service = principal.role is Role.SERVICE and principal.subject not in callers
        if principal.role not in allowed or (callers and is_other_service):
            names = "、".join([r.value for r in roles] + sorted(callers))
            raise Forbidden(f"此操作需要角色：{names} (requires role: {names})")
        # Then ask whether the session still stands (shared/sessions.py): signed out or
        # deactivated → 401; permissions as the account has them now.
        guard = getattr(request.app.state, "session_guard", None)
        return principal if guard is None else await guard.confirm(principal)

    return Depends(dependency)


def require_service(*services: str) -> Any:
    """Only these services' own tokens: a compromised guarantee key must not report loans
    to intake. Checked before the body, so a wrong caller learns nothing from validation."""
    return require_roles(services=services)


def require_approve_permission(principal: Principal, what_zh: str) -> None:
    """403 ``approve-permission-required`` unless ``principal`` may approve ``what_zh``: a
    finance-bureau person with the approver permission. An admin token never approves
    bureau work, whatever permissions it carries (four eyes are two bureau people)."""
    if principal.role is not Role.BUREAU:
        raise ApprovePermissionRequired(f"{what_zh}须由财政局审批人批准，管理员账号不能审批")
    if APPROVE_PERMISSION not in principal.permissions:
        raise ApprovePermissionRequired(f"{what_zh}需要审批权限（bureau approver）")


def account_of(principal: Principal) -> int | None:
    """The SME portal account behind a token (None: a token not of a portal account)."""
    account = principal.account
    return int(account) if account is not None and account.isdigit() else None


def person_of(actor: str) -> str:
    """The person behind an actor as history and audit record it (``bureau:alice`` →
    ``alice``): four eyes compare people, not the role they signed in with."""
    return actor.split(":", 1)[-1]


def same_person(principal: Principal, *actors: str | None) -> bool:
    """Whether ``principal`` is the person behind any of ``actors``."""
    return any(a is not None and person_of(a) == principal.subject for a in actors)
