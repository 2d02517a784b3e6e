import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.uscc import (
    ALPHABET,
    InvalidUSCC,
    check_character,
    region_of,
    validate_uscc,
)
from tests.conftest import make_uscc


@pytest.mark.parametrize("code", ["914403001922038216", "9144030071526726XG", "91350200776049653A"])
def test_published_codes_validate(code: str) -> None:
    assert validate_uscc(code) == code


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate_uscc(" 9144030071526726xg ") == "9144030071526726XG"


@given(st.integers(min_value=0, max_value=2**32))
def test_every_single_character_change_is_caught(seed: int) -> None:
    rng = random.Random(seed)
    code = make_uscc(rng=rng)
    position = rng.randrange(18)
    replacement = rng.choice([c for c in ALPHABET if c != code[position]])
    altered = code[:position] + replacement + code[position + 1 :]
    if position in range(2, 8) and not altered[2:8].isdigit():
        expected = "uscc_region"
    else:
        expected = "uscc_check"
    with pytest.raises(InvalidUSCC) as info:
        validate_uscc(altered)
    assert info.value.code == expected


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91440300192203821", "uscc_length"),
        ("9144030019220382161", "uscc_length"),
        ("91440300192203821I", "uscc_charset"),
        ("9144O3001922038216", "uscc_charset"),
        ("914403001922038217", "uscc_check"),
    ],
)
def test_malformed_codes(code: str, reason: str) -> None:
    with pytest.raises(InvalidUSCC) as info:
        validate_uscc(code)
    assert info.value.code == reason
    assert info.value.message_zh


def test_check_character_31_maps_to_zero() -> None:
    # Find a body whose weighted sum is ≡ 0 (mod 31): its check character is '0'.
    rng = random.Random(7)
    while True:
        body = "9131011" + "".join(rng.choice(ALPHABET) for _ in range(10))
        if check_character(body) == "0":
            break
    assert validate_uscc(body + "0").endswith("0")


def test_region() -> None:
    assert region_of(make_uscc("310118")) == "310118"
