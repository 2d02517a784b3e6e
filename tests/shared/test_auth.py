from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import PLATFORM_AUDIENCE, Role, TokenIssuer, TokenVerifier, generate_keypair
from shared.errors import Unauthenticated


@pytest.fixture
def verifier(keys_dir: Path) -> TokenVerifier:
    return TokenVerifier.from_keys_dir(keys_dir)


def issuer(keys_dir: Path, name: str) -> TokenIssuer:
    return TokenIssuer.from_keys_dir(keys_dir, issuer=name, ttl_seconds=900)


def test_sme_token_round_trip(keys_dir: Path, verifier: TokenVerifier) -> None:
    token = issuer(keys_dir, "loan_intake").issue(
        subject="91310118MA1JL0000N", role=Role.SME, tenant="91310118MA1JL0000N"
    )
    principal = verifier.verify(token)
    assert principal.role is Role.SME
    assert principal.tenant == "91310118MA1JL0000N"
    assert principal.actor == "sme:91310118MA1JL0000N"


def test_an_issuer_cannot_mint_a_role_it_does_not_own(keys_dir: Path) -> None:
    with pytest.raises(ValueError, match="does not issue"):
        issuer(keys_dir, "loan_intake").issue(subject="x", role=Role.BUREAU)


def test_a_forged_role_claim_from_the_wrong_issuer_is_refused(
    keys_dir: Path, verifier: TokenVerifier
) -> None:
    # Signed with intake's real key, but claiming a bureau role only the gateway may grant.
    key = (keys_dir / "loan_intake.pem").read_bytes()
    token = jwt.encode(
        {
            "iss": "loan_intake",
            "sub": "x",
            "aud": PLATFORM_AUDIENCE,
            "role": "bureau",
            "exp": 4102444800,
            "iat": 1700000000,
        },
        key,
        algorithm="EdDSA",
        headers={"kid": "loan_intake"},
    )
    with pytest.raises(Unauthenticated, match="issuer not allowed"):
        verifier.verify(token)


def test_a_key_nobody_trusts_is_refused(tmp_path: Path, verifier: TokenVerifier) -> None:
    generate_keypair(tmp_path, "loan_intake")
    token = issuer(tmp_path, "loan_intake").issue(subject="x", role=Role.SME, tenant="x")
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier.verify(token)


def test_expired_token(keys_dir: Path, verifier: TokenVerifier) -> None:
    token = issuer(keys_dir, "bank_gateway").issue(
        subject="a", role=Role.BUREAU, ttl=timedelta(seconds=-60)
    )
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(token)


def test_wrong_audience_and_algorithm_none(keys_dir: Path, verifier: TokenVerifier) -> None:
    key = Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
    other = jwt.encode(
        {"sub": "x", "aud": "elsewhere"}, key, algorithm="EdDSA", headers={"kid": "bank_gateway"}
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(other)
    unsigned = jwt.encode(
        {"sub": "x", "role": "admin"}, None, algorithm="none", headers={"kid": "bank_gateway"}
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(unsigned)


def test_service_token_names_its_issuer(keys_dir: Path, verifier: TokenVerifier) -> None:
    principal = verifier.verify(issuer(keys_dir, "guarantee").service_token())
    assert principal.role is Role.SERVICE
    assert principal.subject == "guarantee"
