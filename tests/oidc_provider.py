"""A small OpenID Connect provider — the city's identity platform as the tests play it.

Discovery, an authorization endpoint that signs in whoever ``user`` is (the person at the
platform's login page), a token endpoint that checks the client, the redirect URI and the
PKCE verifier (S256) before it issues an ID token signed with a real RSA key, and the JWKS
that publishes that key. ``forge`` makes it sign with a key it does not publish.
"""

import hashlib
import secrets
import time
from base64 import b64encode, urlsafe_b64encode
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route


@dataclass
class Provider:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    user: dict[str, str] = field(default_factory=dict)
    forge: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.user,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.forge else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def _s256(verifier: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def create_provider(provider: Provider) -> Starlette:
    async def discovery(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": provider.issuer,
                "authorization_endpoint": f"{provider.issuer}/authorize",
                "token_endpoint": f"{provider.issuer}/token",
                "jwks_uri": f"{provider.issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def authorize(request: Request) -> Response:
        q = request.query_params
        if (
            q.get("client_id") != provider.client_id
            or q.get("redirect_uri") != provider.redirect_uri
            or q.get("response_type") != "code"
            or q.get("code_challenge_method") != "S256"
            or not q.get("code_challenge")
            or not q.get("nonce")
        ):
            provider.refused.append("authorize")
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(24)
        provider.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"]}
        back = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{provider.redirect_uri}?{back}", status_code=302)

    async def token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        issued = provider.codes.pop(str(form.get("code")), None)  # a code works once
        basic = request.headers.get("authorization", "")
        expected = (
            "Basic " + b64encode(f"{provider.client_id}:{provider.client_secret}".encode()).decode()
        )
        if issued is None or basic != expected or form.get("redirect_uri") != provider.redirect_uri:
            provider.refused.append("token")
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if _s256(str(form.get("code_verifier"))) != issued["challenge"]:
            provider.refused.append("pkce")
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(issued["nonce"]),
            }
        )

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [provider.key.as_dict(private=False)]})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
            Route("/jwks", jwks),
        ]
    )
