"""Personal data and secrets never reach a log line as they are."""

import json
import logging

import structlog

from shared.logging import configure_logging
from shared.masking import mask_personal_data, mask_text


def test_secrets_go_whole_personal_data_keeps_a_hint() -> None:
    masked = mask_personal_data(
        None,
        "info",
        {
            "event": "account.registered",
            "password": "Qingpu2026pw",
            "client_secret": "abc",
            "contact_phone": "13800138000",
            "contact_name": "王小明",
            "uscc": "91310118MA1JL0000N",
            "detail": {"token": "eyJhbGci", "note": "联系人手机 13912345678"},
        },
    )
    assert masked["password"] == masked["client_secret"] == "***"
    assert masked["contact_phone"] == "1*********0"
    assert masked["contact_name"] == "王*明"
    assert masked["uscc"] == "91310118MA1JL0000N"  # an enterprise's public identity
    assert masked["detail"] == {"token": "***", "note": "联系人手机 139****5678"}


def test_free_text_hides_mobile_and_resident_id_numbers_not_credit_codes() -> None:
    text = "法人 310118199001011234 电话 15021234567 企业 914403001922038216 金额 13800138000.00"
    assert mask_text(text) == (
        "法人 310118********4 电话 150****4567 企业 914403001922038216 金额 13800138000.00"
    )


def test_the_configured_logger_masks_what_it_writes(capsys) -> None:  # type: ignore[no-untyped-def]
    configure_logging(service="loan_intake", json=True)
    structlog.get_logger("test").warning("login.failed", password="secret-1", phone="13800138000")
    logging.getLogger("uvicorn.error").warning("client 13800138000 said hello")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert lines[0]["password"] == "***" and lines[0]["phone"] == "1*********0"
    assert "138****8000" in lines[1]["event"]
