from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.money import (
    Money,
    Rate,
    TypedAmountInvalid,
    format_amount,
    from_fen,
    parse_amount,
    parse_typed_amount,
    round_to_fen,
    to_fen,
)

fen_values = st.integers(min_value=-(10**15), max_value=10**15)


class Priced(BaseModel):
    amount: Money
    rate: Rate = Decimal("0.0050")


@given(fen_values)
def test_fen_round_trips_through_decimal_and_text(fen: int) -> None:
    text = format_amount(from_fen(fen))
    assert to_fen(parse_amount(text)) == fen
    assert "." in text and len(text.split(".")[1]) == 2


@given(fen_values)
def test_json_round_trip_is_exact(fen: int) -> None:
    model = Priced(amount=from_fen(fen))
    again = Priced.model_validate_json(model.model_dump_json())
    assert again.amount == model.amount
    assert isinstance(model.model_dump(mode="json")["amount"], str)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10**4))
def test_rounding_to_fen_is_half_up_and_never_more_than_half_a_fen_away(
    fen: int, rate_bp: int
) -> None:
    exact = from_fen(fen) * (Decimal(rate_bp) / 10000)
    rounded = round_to_fen(exact)
    assert abs(rounded - exact) <= Decimal("0.005")
    assert rounded == rounded.quantize(Decimal("0.01"))


@pytest.mark.parametrize("good", ["0", "1", "1.5", "1.50", "1500000.00", 7, "-3.20"])
def test_accepted_amounts(good: object) -> None:
    assert parse_amount(good) == Decimal(str(good)).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("1.005", "money_precision"),
        ("1.000", "money_precision"),
        (1.5, "money_float"),
        ("abc", "money_parsing"),
        ("1e3", "money_parsing"),
        ("NaN", "money_parsing"),
        ("", "money_parsing"),
        (True, "money_type"),
        (None, "money_type"),
        ("100000000000000.00", "money_range"),
    ],
)
def test_refused_amounts(bad: object, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        Priced(amount=bad)
    [error] = info.value.errors()
    assert error["type"] == code
    assert error["ctx"]["message_zh"]


def test_to_fen_refuses_sub_fen_amounts_rather_than_rounding() -> None:
    with pytest.raises(ValueError, match="finer than a fen"):
        to_fen(Decimal("0.001"))


@pytest.mark.parametrize(
    ("rate", "text"), [("0.005", "0.0050"), ("0.8", "0.8000"), ("0.123456", "0.123456")]
)
def test_rates_serialise_with_at_least_four_decimals(rate: str, text: str) -> None:
    assert Priced(amount="1", rate=rate).model_dump(mode="json")["rate"] == text


@pytest.mark.parametrize("bad", [0.5, "1.5", "-0.1", "x"])
def test_refused_rates(bad: object) -> None:
    with pytest.raises(ValidationError):
        Priced(amount="1", rate=bad)


@given(st.integers(min_value=1, max_value=10**13))
def test_a_typed_amount_reads_the_same_however_it_is_written(fen: int) -> None:
    amount = from_fen(fen)
    written = [f"{amount}", f"{amount:,}", f"¥{amount:,} 元", f"{amount:,}".replace(",", "，")]
    if fen % 100 == 0:
        written.append(f"{amount / 10000:f}万".replace(".000000", ""))
    for text in written:
        assert parse_typed_amount(text) == amount, text


@pytest.mark.parametrize(
    ("typed", "yuan_"),
    [
        ("500万", "5000000.00"),
        ("500 万元", "5000000.00"),
        ("32,000,000", "32000000.00"),
        ("０.５亿", "50000000.00"),
        ("１２３４元", "1234.00"),
    ],
)
def test_amounts_as_people_type_them(typed: str, yuan_: str) -> None:
    assert parse_typed_amount(typed) == Decimal(yuan_)


@pytest.mark.parametrize("typed", ["", "abc", "-5", "1e5", "1.234", "12.3456789万", "5万万"])
def test_what_is_not_an_amount_is_said_in_chinese(typed: str) -> None:
    with pytest.raises(TypedAmountInvalid) as refused:
        parse_typed_amount(typed)
    assert refused.value.message_zh and not refused.value.message_zh.isascii()
