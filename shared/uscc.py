"""统一社会信用代码 (unified social credit code), GB 32100-2015."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
QINGPU_REGION = "310118"


class InvalidUSCC(ValueError):
    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


def check_character(first17: str) -> str:
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(raw: str) -> str:
    """Return the normalised (upper-case, trimmed) code, or raise :class:`InvalidUSCC`."""
    code = raw.strip().upper()
    if len(code) != 18:
        raise InvalidUSCC(
            "uscc_length",
            f"统一社会信用代码应为 18 位，当前 {len(code)} 位",
            f"a USCC has 18 characters, got {len(code)}",
        )
    bad = [ch for ch in code if ch not in _VALUE]
    if bad:
        raise InvalidUSCC(
            "uscc_charset",
            f"统一社会信用代码含非法字符 '{bad[0]}'（不使用 I、O、Z、S、V）",
            f"character '{bad[0]}' is not allowed in a USCC (I, O, Z, S, V are never used)",
        )
    if not code[2:8].isdigit():
        raise InvalidUSCC(
            "uscc_region",
            "统一社会信用代码第 3–8 位应为行政区划代码（数字）",
            "positions 3-8 of a USCC are the numeric region code",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidUSCC(
            "uscc_check",
            # Never the right character: that would let anyone mint valid-looking codes.
            "统一社会信用代码校验不通过，请对照营业执照逐位核对",
            "the USCC's check character does not match: compare it with the licence",
        )
    return code


def region_of(code: str) -> str:
    return code[2:8]
