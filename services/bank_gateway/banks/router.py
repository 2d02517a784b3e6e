"""Partner banks (registered and managed by an administrator) and their OAuth2 token."""

import base64
import binascii
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Request, Response

from services.bank_gateway.banks import service
from services.bank_gateway.banks.exceptions import (
    BankExists,
    BankNotFound,
    OAuthBadRequest,
    OAuthError,
)
from services.bank_gateway.banks.schemas import (
    BankCredentials,
    PartnerBankCreate,
    PartnerBankPublic,
    PartnerBankUpdate,
    SigningRotation,
    TokenResponse,
)
from services.bank_gateway.config import private_webhooks_allowed
from services.bank_gateway.deps import AdminDep, BankReaderDep, SessionDep
from shared.api import AUTH_PROBLEMS, BODY_PROBLEMS
from shared.attempts import Attempts, TooManyAttempts
from shared.auth import Role, TokenIssuer
from shared.errors import (
    PayloadTooLarge,
    problem_responses,
)
from shared.web import client_address

banks = APIRouter(prefix="/v1/banks", tags=["partner banks"])
oauth = APIRouter(tags=["oauth"])


@banks.get("", response_model=list[PartnerBankPublic], responses=problem_responses(*AUTH_PROBLEMS))
async def list_banks(session: SessionDep, principal: BankReaderDep) -> list[PartnerBankPublic]:
    """Partner banks: bureau staff see all, a bank sees itself."""
    return await service.list_banks(session=session, principal=principal)


@banks.post(
    "",
    status_code=201,
    response_model=BankCredentials,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, BankExists),
)
async def register_bank(
    payload: PartnerBankCreate,
    request: Request,
    session: SessionDep,
    principal: AdminDep,
    response: Response,
) -> BankCredentials:
    """Register a bank. Its client secret and signing secret are in this answer only. The
    webhook URL must be https and public (no user:password, no private or loopback host)."""
    created = await service.register_bank(
        session=session,
        principal=principal,
        payload=payload,
        allow_private=private_webhooks_allowed(request.app.state.settings),
    )
    response.headers["Location"] = f"/v1/banks/{created.bank.code}"
    response.headers["Cache-Control"] = "no-store"
    return created


@banks.get(
    "/{code}",
    response_model=PartnerBankPublic,
    responses=problem_responses(*AUTH_PROBLEMS, BankNotFound),
)
async def get_bank(code: str, session: SessionDep, principal: BankReaderDep) -> PartnerBankPublic:
    """One bank (a bank may read only itself; another is 404)."""
    return await service.get_bank(session=session, principal=principal, code=code)


@banks.patch(
    "/{code}",
    response_model=PartnerBankPublic,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, BankNotFound),
)
async def update_bank(
    code: str,
    payload: PartnerBankUpdate,
    request: Request,
    session: SessionDep,
    principal: AdminDep,
) -> PartnerBankPublic:
    """Change a bank's name, webhook URL (checked as at registration) or whether it may
    sign in."""
    return await service.update_bank(
        session=session,
        principal=principal,
        code=code,
        payload=payload,
        allow_private=private_webhooks_allowed(request.app.state.settings),
    )


@banks.post(
    "/{code}/client-secret",
    response_model=BankCredentials,
    responses=problem_responses(*AUTH_PROBLEMS, BankNotFound),
)
async def rotate_client_secret(
    code: str, session: SessionDep, principal: AdminDep, response: Response
) -> BankCredentials:
    """A new client secret, shown once; the old one stops working now."""
    response.headers["Cache-Control"] = "no-store"
    return await service.rotate_client_secret(session=session, principal=principal, code=code)


@banks.post(
    "/{code}/signing-secrets",
    response_model=BankCredentials,
    responses=problem_responses(*AUTH_PROBLEMS, *BODY_PROBLEMS, BankNotFound),
)
async def rotate_signing_secret(
    code: str,
    payload: SigningRotation,
    session: SessionDep,
    principal: AdminDep,
    response: Response,
) -> BankCredentials:
    """A new webhook signing secret, shown once; the old stays valid for `overlap_hours`."""
    response.headers["Cache-Control"] = "no-store"
    return await service.rotate_signing_secret(
        session=session,
        principal=principal,
        code=code,
        overlap=timedelta(hours=payload.overlap_hours),
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("Authorization: Basic 头无法解码") from None
    client_id, sep, client_secret = decoded.partition(":")
    if not sep:
        raise OAuthError("Authorization: Basic 头应为 client_id:client_secret")
    return client_id, client_secret


@oauth.post(
    "/oauth/token",
    response_model=TokenResponse,
    responses=problem_responses(OAuthError, OAuthBadRequest, PayloadTooLarge, TooManyAttempts),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def issue_token(
    request: Request,
    session: SessionDep,
    response: Response,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenResponse:
    """OAuth2 client-credentials grant (RFC 6749 §4.4): a short-lived token for one bank.

    Credentials as HTTP Basic or as `client_id` / `client_secret` form fields."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise OAuthBadRequest(
            "请求体须为 application/x-www-form-urlencoded", error="invalid_request"
        )
    try:
        form = parse_qs((await request.body()).decode(), strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthBadRequest("请求体不是 UTF-8", error="invalid_request") from None
    field = {name: values[0] for name, values in form.items() if values}
    if field.get("grant_type") != "client_credentials":
        raise OAuthBadRequest(
            "仅支持 grant_type=client_credentials", error="unsupported_grant_type"
        )
    credentials = _basic_credentials(authorization) or (
        field.get("client_id", ""),
        field.get("client_secret", ""),
    )
    if not all(credentials):
        raise OAuthError("缺少客户端凭据（client_id / client_secret）")
    attempts: Attempts = request.app.state.sign_in_attempts
    address = client_address(request)
    await attempts.check_client(address=address)
    try:
        bank = await service.authenticate_client(
            session=session, client_id=credentials[0], client_secret=credentials[1]
        )
    except OAuthError:
        await session.rollback()  # nothing of a failure is kept; free the database
        await attempts.failed_client(address=address)
        raise
    issuer: TokenIssuer = request.app.state.token_issuer
    token = issuer.issue(subject=bank.client_id or bank.code, role=Role.BANK, tenant=bank.code)
    response.headers["Cache-Control"] = "no-store"
    return TokenResponse(
        access_token=token, expires_in=int(issuer.ttl.total_seconds()), scope=f"bank:{bank.code}"
    )
