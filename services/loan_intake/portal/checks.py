"""Checks as the user types (the server checks everything again on submit)."""

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from services.loan_intake.portal.forms import size_label
from shared.money import TypedAmountInvalid, in_wan, parse_typed_amount, yuan
from shared.uscc import QINGPU_REGION, InvalidUSCC, region_of, validate_uscc

checks = APIRouter(prefix="/portal/check", include_in_schema=False)


@checks.get("/uscc")
async def check_uscc(value: str = Query("", max_length=40)) -> JSONResponse:
    try:
        code = validate_uscc(value)
    except InvalidUSCC as error:
        return JSONResponse({"valid": False, "message": error.message_zh})
    qingpu = region_of(code) == QINGPU_REGION
    return JSONResponse(
        {
            "valid": True,
            "message": "代码有效" + ("（青浦区登记）" if qingpu else "（非青浦区登记机关）"),
            "qingpu": qingpu,
        }
    )


@checks.get("/amount")
async def check_amount(value: str = Query("", max_length=40)) -> JSONResponse:
    """The amount as the server will read it on submit (the page shows it as one types)."""
    try:
        amount = parse_typed_amount(value)
    except TypedAmountInvalid as error:
        return JSONResponse({"valid": False, "message": error.message_zh})
    return JSONResponse(
        {"valid": True, "value": str(amount), "shown": f"{yuan(amount)}（{in_wan(amount)}）"}
    )


@checks.get("/size")
async def check_size(
    sector: str = Query("", max_length=40),
    employees: str = Query("", max_length=12),
    revenue: str = Query("", max_length=20),
    assets: str = Query("", max_length=20),
) -> JSONResponse:
    """The SME size class (工信部联企业〔2011〕300号) for what has been typed so far."""
    return JSONResponse({"label": size_label(sector, employees, revenue, assets)})
