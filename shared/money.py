"""Exact money: integer fen in storage, ``Decimal`` in code, ``"1234.50"`` in JSON.

This module is the only place money changes representation. Floats are refused at the
door: ``0.1 + 0.2`` is not a sum a finance bureau signs.
"""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

FEN = Decimal("0.01")
# ¥10 trillion: above any real loan, below BigInteger's range in fen.
MAX_AMOUNT = Decimal("10000000000000.00")
_AMOUNT_PATTERN = r"^-?\d{1,14}(\.\d{1,2})?$"
_AMOUNT_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def _shown(value: object) -> str:
    # Pydantic formats messages with str.format: braces in user input must not reach it.
    return str(value)[:40].replace("{", "(").replace("}", ")")


def _money_error(code: str, zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError(code, en, {"code": code, "message_zh": zh})


def parse_amount(value: Any) -> Decimal:
    """Accept ``"1500000.00"``, ``"1500000"`` or an integer; refuse floats and a third decimal."""
    if isinstance(value, bool):
        raise _money_error(
            "money_type",
            '金额应为字符串，如 "1500000.00"',
            'amount must be a string such as "1500000.00"',
        )
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.match(text):
            shown = _shown(value)
            raise _money_error(
                "money_parsing", f"金额格式不正确：'{shown}'", f"not an amount: '{shown}'"
            )
        if "." in text and len(text.split(".", 1)[1]) > 2:
            raise _money_error(
                "money_precision", "金额最多两位小数（精确到分）", "at most two decimals (fen)"
            )
        amount = Decimal(text)
    elif isinstance(value, float):
        raise _money_error(
            "money_float",
            '金额不能用浮点数，请写成字符串，如 "1500000.00"',
            'amounts are strings, never floats: write "1500000.00"',
        )
    else:
        raise _money_error(
            "money_type",
            '金额应为字符串，如 "1500000.00"',
            'amount must be a string such as "1500000.00"',
        )
    if not amount.is_finite():
        raise _money_error("money_parsing", "金额必须是有限数值", "amount must be finite")
    if amount != amount.quantize(FEN):
        raise _money_error(
            "money_precision", "金额最多两位小数（精确到分）", "at most two decimals (fen)"
        )
    if abs(amount) > MAX_AMOUNT:
        raise _money_error("money_range", "金额超出范围", "amount out of range")
    return amount.quantize(FEN)


def to_fen(amount: Decimal) -> int:
    """Decimal yuan → integer fen. Refuses anything finer than a fen rather than rounding."""
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is finer than a fen")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(FEN)


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(FEN))


def round_to_fen(amount: Decimal) -> Decimal:
    """Round a computed amount (fee, share) half-up to the fen — the one rounding rule."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


Money = Annotated[
    Decimal,
    BeforeValidator(parse_amount),
    PlainSerializer(format_amount, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _AMOUNT_PATTERN,
            "examples": ["1500000.00"],
            "description": "CNY yuan as a decimal string with at most two decimals",
        }
    ),
]

_RATE_PATTERN = r"^\d(\.\d{1,6})?$"


def parse_rate(value: Any) -> Decimal:
    if isinstance(value, float | bool):
        raise _money_error(
            "rate_type", '比率应为字符串，如 "0.0050"', 'rates are strings such as "0.0050"'
        )
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        shown = _shown(value)
        raise _money_error(
            "rate_parsing", f"比率格式不正确：'{shown}'", f"not a rate: '{shown}'"
        ) from None
    if not rate.is_finite() or rate < 0 or rate > 1:
        raise _money_error("rate_range", "比率应在 0 与 1 之间", "a rate lies between 0 and 1")
    return rate


RATE_PLACES = Decimal("0.0001")


def format_rate(rate: Decimal) -> str:
    """At least four decimals ("0.0050"); more only when the rate has them."""
    if rate == rate.quantize(RATE_PLACES):
        return str(rate.quantize(RATE_PLACES))
    return str(rate.normalize())


Rate = Annotated[
    Decimal,
    BeforeValidator(parse_rate),
    PlainSerializer(format_rate, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _RATE_PATTERN,
            "examples": ["0.0050"],
            "description": "A share or annual rate as a decimal string (0.0050 = 0.5 %)",
        }
    ),
]


# --- as people read them ----------------------------------------------------------------------


def yuan(amount: Decimal | str | int | None) -> str:
    """¥1,500,000.00 — on pages, in letters and in what the SME reads in its history."""
    if amount is None or amount == "":
        return "—"
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def percent(rate: Decimal | str | None, places: int = 2) -> str:
    """0.0345 → 3.45%"""
    if rate is None or rate == "":
        return "—"
    return f"{Decimal(str(rate)) * 100:.{places}f}%"


# --- amounts as people type them --------------------------------------------------------------

_TYPED = re.compile(r"^(\d+(?:\.\d+)?)(万|亿)?$")
_UNITS = {None: Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000)}


class TypedAmountInvalid(ValueError):
    """What was typed is not an amount; ``message_zh`` says why, for the form."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


def parse_typed_amount(text: str) -> Decimal:
    """An amount as a person types it on a Chinese form → exact yuan: "5000000", "5,000,000",
    "500万", "500 万元", "¥1,234.50", "１２３４元" (full-width), "0.5亿". The portal's page
    asks the server for this same reading as one types, so page and server never differ."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    for noise in (" ", ",", "¥", "￥", "人民币", "RMB", "rmb"):
        cleaned = cleaned.replace(noise, "")
    cleaned = cleaned.removesuffix("元")
    if not cleaned:
        raise TypedAmountInvalid("请填写金额")
    match = _TYPED.match(cleaned)
    if not match:
        raise TypedAmountInvalid(f"“{text.strip()[:30]}”不是金额：请填数字，如 5000000 或 500万")
    amount = Decimal(match.group(1)) * _UNITS[match.group(2)]
    if amount != amount.quantize(FEN):
        raise TypedAmountInvalid("金额最多精确到分（元后两位小数）")
    if amount > MAX_AMOUNT:
        raise TypedAmountInvalid("金额超出范围")
    return amount.quantize(FEN)


def in_wan(amount: Decimal) -> str:
    """5000000 → "500万元", 1234.5 → "0.123450万元": how the amount reads in 万."""
    wan = (amount / 10_000).normalize()
    return f"{wan:,f}万元"
