"""A small OpenID Connect provider standing in for the city's identity platform (一网通办):
in the test suite, and in ``make run`` (``python -m deploy.dev_identity``) so that a firm
can be verified in the demo. Never a production component.

Discovery, an authorization endpoint that signs in whoever ``user`` is (the tests set it)
or asks, on a page of its own, which firm's legal representative is signing in (the demo),
a token endpoint that checks the client, the redirect URI and the PKCE verifier (S256)
before it issues an ID token signed with a real RSA key, and the JWKS that publishes that
key. ``forge`` makes it sign with a key it does not publish.
"""

import argparse
import hashlib
import html
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
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
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

    def id_token(self, nonce: str, user: dict[str, str]) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **user,
        }
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"}) if self.forge else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def _login_page(query: Any) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in query.items()
    )
    return f"""<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>模拟一网通办 · 法人登录</title>
<body style="font-family: sans-serif; max-width: 30rem; margin: 3rem auto">
<h1>模拟一网通办（开发环境）</h1>
<p>这是 make run 的演示身份平台，不是真实的一网通办。输入要以法定代表人身份登录的企业。</p>
<form method="post" action="/authorize">{hidden}
<p><label>统一社会信用代码<br>
<input name="uscc" required pattern="[0-9A-Z]{{18}}" size="24"></label></p>
<p><button type="submit">登录并授权批次贷平台</button></p>
</form></body></html>"""


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
        q: Any = request.query_params
        if request.method == "POST":  # the demo's login page, posted back
            q = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        elif not provider.user:
            return HTMLResponse(_login_page(q))
        user = provider.user or {"sub": f"demo-{q.get('uscc', '')}", "uscc": q.get("uscc", "")}
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
        provider.codes[code] = {"challenge": q["code_challenge"], "nonce": q["nonce"], "user": user}
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
                "id_token": provider.id_token(issued["nonce"], issued["user"]),
            }
        )

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse({"keys": [provider.key.as_dict(private=False)]})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize, methods=["GET", "POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/jwks", jwks),
        ]
    )


def main() -> None:
    """``python -m deploy.dev_identity --port 8009 --redirect-uri …``: the demo platform."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m deploy.dev_identity")
    parser.add_argument("--port", type=int, default=8009)
    parser.add_argument("--redirect-uri", required=True)
    parser.add_argument("--client-secret", default="dev-idp-secret")
    args = parser.parse_args()
    provider = Provider(
        issuer=f"http://127.0.0.1:{args.port}",
        client_id="picidai",
        client_secret=args.client_secret,
        redirect_uri=args.redirect_uri,
    )
    uvicorn.run(create_provider(provider), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
