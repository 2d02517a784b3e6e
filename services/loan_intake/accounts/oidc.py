"""Verifying a firm through the city's unified identity platform (一网通办), as an OpenID
Connect relying party: authorization code with PKCE (S256), state and nonce, the ID token's
signature checked against the provider's published keys (JWKS) and its issuer, audience,
lifetime and nonce checked; the firm's USCC read from a configured claim.

Pieces from authlib (PKCE challenge, random tokens) and joserfc (JWT and JWKS); the HTTP
is ours (httpx), bounded like every outbound call. The pending login (state, nonce, PKCE
verifier, the account) travels in a signed, short-lived cookie: nothing is kept server-side
for a login that is never finished.
"""

import hashlib
import hmac
import json
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from services.loan_intake.accounts.exceptions import VerificationFailed

PENDING_SECONDS = 600
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class Pending:
    """A login at the identity platform that has not come back yet."""

    state: str
    nonce: str
    verifier: str
    account: int
    expires: int


class PendingCookie:
    """``Pending`` as an HMAC-signed cookie value (the key derived from the service's own
    signing key): the browser carries it, cannot change it, and it expires."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"picidai oidc pending\x00" + key).digest()

    def dump(self, pending: Pending) -> str:
        body = urlsafe_b64encode(json.dumps(asdict(pending)).encode()).decode()
        return f"{body}.{self._mac(body)}"

    def load(self, value: str | None) -> Pending | None:
        body, _, mac = (value or "").partition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            pending = Pending(**json.loads(urlsafe_b64decode(body.encode())))
        except (ValueError, TypeError):
            return None
        return pending if pending.expires > time.time() else None

    def _mac(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


class IdentityPlatform:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        uscc_claim: str,
        scope: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._uscc_claim = uscc_claim
        self._scope = scope
        self._http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(10.0), follow_redirects=False
        )
        self._metadata: dict[str, Any] | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def start(self, *, account: int, redirect_uri: str) -> tuple[str, Pending]:
        """Where to send the browser, and what to remember until it comes back."""
        metadata = await self._discover()
        pending = Pending(
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=generate_token(64),
            account=account,
            expires=int(time.time()) + PENDING_SECONDS,
        )
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": self._scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": create_s256_code_challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
        return f"{metadata['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(self, *, code: str, pending: Pending, redirect_uri: str) -> tuple[str, str]:
        """(the USCC the platform vouches for, its subject), from the code it sent back."""
        metadata = await self._discover()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self._client_id,
            "code_verifier": pending.verifier,
        }
        auth = (self._client_id, self._client_secret) if self._client_secret else None
        answer = await self._call("POST", metadata["token_endpoint"], data=form, auth=auth)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise VerificationFailed("一网通办未返回身份令牌（id_token）")
        claims = await self._claims(id_token, metadata, pending)
        uscc = claims.get(self._uscc_claim)
        if not isinstance(uscc, str) or not uscc:
            raise VerificationFailed(f"一网通办的身份令牌中没有企业代码（{self._uscc_claim}）")
        return uscc.strip().upper(), str(claims.get("sub", ""))[:100]

    async def _claims(
        self, id_token: str, metadata: dict[str, Any], pending: Pending
    ) -> dict[str, Any]:
        keys = KeySet.import_key_set(await self._call("GET", metadata["jwks_uri"]))
        try:
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self._client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise VerificationFailed(
                f"一网通办的身份令牌未通过校验（{type(error).__name__}）"
            ) from None
        return dict(token.claims)

    async def _discover(self) -> dict[str, Any]:
        if self._metadata is None:
            found = await self._call("GET", f"{self.issuer}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != self.issuer:
                raise VerificationFailed("一网通办的配置与所登记的签发方不一致")
            self._metadata = found
        return self._metadata

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise VerificationFailed(f"无法连接一网通办（{type(error).__name__}）") from None
        if response.status_code != 200 or len(response.content) > 256 * 1024:
            raise VerificationFailed(f"一网通办拒绝了请求（HTTP {response.status_code}）")
        try:
            found = response.json()
        except ValueError:
            raise VerificationFailed("一网通办的应答不是 JSON") from None
        if not isinstance(found, dict):
            raise VerificationFailed("一网通办的应答不是 JSON 对象")
        return found
