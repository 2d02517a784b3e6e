"""The registration form of an enterprise account, checked field by field."""

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from shared.uscc import InvalidUSCC, validate_uscc

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
MIN_PASSWORD = 10


def _custom(code: str, zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError(code, en, {"code": code, "message_zh": zh})


Text = Annotated[str, StringConstraints(strip_whitespace=True)]


def _strong_password(value: str) -> str:
    if len(value) < MIN_PASSWORD or not (re.search(r"[A-Za-z]", value) and re.search(r"\d", value)):
        raise _custom(
            "password_weak",
            f"密码至少 {MIN_PASSWORD} 位，且同时包含字母和数字",
            f"at least {MIN_PASSWORD} characters, with letters and digits",
        )
    return value


def _same_password(value: str, info: object) -> str:
    data = getattr(info, "data", {})
    if "password" in data and value != data["password"]:
        raise _custom("password_mismatch", "两次输入的密码不一致", "passwords differ")
    return value


class Registration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: Text
    enterprise_name: Text = Field(min_length=2, max_length=200)
    contact_name: Text = Field(min_length=2, max_length=50)
    contact_phone: Text
    password: str = Field(max_length=200)
    password_confirm: str = Field(max_length=200)

    @field_validator("uscc")
    @classmethod
    def _uscc(cls, value: str) -> str:
        try:
            return validate_uscc(value)
        except InvalidUSCC as exc:
            raise _custom(exc.code, exc.message_zh, exc.message_en) from None

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not (_MOBILE.match(value) or _LANDLINE.match(value)):
            raise _custom(
                "phone_invalid",
                "请填写 11 位手机号或带区号的固定电话（如 021-59731234）",
                "an 11-digit mobile number or a landline with its area code",
            )
        return value

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        return _strong_password(value)

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: object) -> str:
        return _same_password(value, info)


class NewPassword(BaseModel):
    """A new password set with the code sent to the account's verified phone."""

    model_config = ConfigDict(extra="forbid")

    uscc: Text
    code: Text = Field(pattern=r"^\d{6}$")
    password: str = Field(max_length=200)
    password_confirm: str = Field(max_length=200)

    @field_validator("password")
    @classmethod
    def _strong(cls, value: str) -> str:
        return _strong_password(value)

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: object) -> str:
        return _same_password(value, info)
