"""Personal data and secrets kept out of the logs (a structlog processor).

Secrets (passwords, client and signing secrets, tokens, cookies) are replaced whole;
personal data (names of people, phone and ID numbers) keeps only enough to tell entries
apart. Free text is searched for mainland mobile numbers and resident ID numbers too —
unified social credit codes are an enterprise's public identity and stay readable.
"""

import re
from typing import Any

SECRET_KEYS = frozenset(
    {
        "password",
        "password_confirm",
        "password_hash",
        "secret",
        "client_secret",
        "client_secret_hash",
        "signing_secret",
        "token",
        "access_token",
        "authorization",
        "cookie",
        "set-cookie",
    }
)
PERSONAL_KEYS = frozenset(
    {
        "phone",
        "contact_phone",
        "mobile",
        "id_number",
        "id_card",
        "legal_representative",
        "legal_representative_id",
        "contact_name",
        "controller",
    }
)
_MOBILE = re.compile(r"(?<![\d.])(1[3-9]\d)\d{4}(\d{4})(?!\d|\.\d)")
# Resident ID: region (not 9, which starts most credit codes), birth date, sequence, check.
_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])([1-8]\d{5})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}([0-9Xx])(?![0-9A-Za-z])"
)


def mask_text(text: str) -> str:
    text = _MOBILE.sub(r"\1****\2", text)
    return _RESIDENT_ID.sub(r"\1********\2", text)


def _mask_personal(value: Any) -> Any:
    text = str(value)
    if len(text) <= 2:
        return text[:1] + "*"
    return text[0] + "*" * (len(text) - 2) + text[-1]


def _clean(value: Any, depth: int = 0) -> Any:
    if depth > 4:
        return value
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _clean_item(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, depth + 1) for v in value]
    return value


def _clean_item(key: str, value: Any, depth: int) -> Any:
    lowered = key.lower()
    if lowered in SECRET_KEYS:
        return "***"
    if lowered in PERSONAL_KEYS and value is not None:
        return _mask_personal(value)
    return _clean(value, depth)


def mask_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return {key: _clean_item(key, value, 0) for key, value in event_dict.items()}
