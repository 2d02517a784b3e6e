"""The application form: its choices, and the API's request body from its fields."""

from decimal import InvalidOperation
from typing import Any

from services.loan_intake.applications.schemas import EnterprisePublic
from shared.money import TypedAmountInvalid, parse_typed_amount
from shared.sme import SECTORS, UnknownSector, classify, resolve_sector

FLAGS = {
    "specialized_new": "专精特新中小企业",
    "little_giant": "专精特新“小巨人”企业",
    "high_tech": "高新技术企业",
    "tech_sme": "科技型中小企业",
    "key_industry": "青浦“3+5”重点产业",
    "bad_credit_2y": "近两年有严重失信记录（企业、法定代表人或实际控制人）",
    "pending_lawsuit": "有影响偿债能力的未决诉讼",
    "phase_out_list": "列入“三高一低”淘汰名单",
}
# The sectors an SME picks from (GB/T 4754 sections and the divisions 300号 needs).
SECTOR_CHOICES = [
    ("C", "制造业（C）"),
    ("B", "采矿业（B）"),
    ("D", "电力、热力、燃气及水生产和供应业（D）"),
    ("E", "建筑业（E）"),
    ("F51", "批发业（F51）"),
    ("F52", "零售业（F52）"),
    ("G54", "道路运输业（G54）"),
    ("G59", "装卸搬运和仓储业（G59）"),
    ("G60", "邮政业（G60）"),
    ("H61", "住宿业（H61）"),
    ("H62", "餐饮业（H62）"),
    ("I63", "电信、广播电视和卫星传输服务（I63）"),
    ("I64", "互联网和相关服务（I64）"),
    ("I65", "软件和信息技术服务业（I65）"),
    ("K701", "房地产开发经营（K701）"),
    ("K702", "物业管理（K702）"),
    ("L", "租赁和商务服务业（L）"),
    ("A", "农、林、牧、渔业（A）"),
    ("M", "科学研究和技术服务业（M）"),
    ("other", "其他行业"),
]


# Typed as people type amounts ("500万", "5,000,000"), sent to the API as exact yuan.
MONEY_FIELDS = frozenset(
    {
        "enterprise.annual_revenue",
        "enterprise.total_assets",
        "enterprise.total_liabilities",
        "loan.amount",
    }
)


class AmountsInvalid(Exception):
    """Amounts that are not amounts: form field → what is wrong, in Chinese."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def application_body(form: dict[str, str], uscc: str) -> dict[str, Any]:
    """The API's request body from the form's fields (``enterprise.name`` …); amounts read
    as typed (:func:`parse_typed_amount`), :class:`AmountsInvalid` naming those that are not."""
    enterprise: dict[str, Any] = {"uscc": uscc, "flags": {}}
    loan: dict[str, Any] = {}
    wrong: dict[str, str] = {}
    for name, value in form.items():
        part, _, field = name.partition(".")
        value = value.strip()
        if name in MONEY_FIELDS and value:
            try:
                value = str(parse_typed_amount(value))
            except TypedAmountInvalid as error:
                wrong[name] = error.message_zh
        if part == "enterprise" and field.startswith("flags."):
            enterprise["flags"][field.removeprefix("flags.")] = value == "on"
        elif part == "enterprise" and field != "uscc" and value != "":
            enterprise[field] = value
        elif part == "loan" and value != "":
            loan[field] = value
    if wrong:
        raise AmountsInvalid(wrong)
    for key in ("total_liabilities", "land_area_mu"):
        enterprise.setdefault(key, None)
    return {"enterprise": enterprise, "loan": loan}


def values_from(enterprise: EnterprisePublic) -> dict[str, str]:
    """The form filled in from the firm's last application: what rarely changes is not
    typed again (the firm checks and updates the figures)."""
    code = enterprise.industry_code or ""
    sector = max(
        (key for key, _ in SECTOR_CHOICES if key != "other" and code.startswith(key)),
        key=len,
        default="other",
    )
    values = {
        "enterprise.name": enterprise.name,
        "enterprise.registered_district": enterprise.registered_district,
        "enterprise.sector": sector,
        "enterprise.employees": str(enterprise.employees),
        "enterprise.annual_revenue": str(enterprise.annual_revenue),
        "enterprise.total_assets": str(enterprise.total_assets),
        "enterprise.total_liabilities": str(enterprise.total_liabilities or ""),
        "enterprise.land_area_mu": str(enterprise.land_area_mu or ""),
        "enterprise.established_on": enterprise.established_on.isoformat(),
    }
    for flag, declared in enterprise.flags.model_dump().items():
        if declared:
            values[f"enterprise.flags.{flag}"] = "on"
    return values


def size_label(sector: str, employees: str, revenue: str, assets: str) -> str:
    """ "工业 · 小型企业" for what has been typed, or "" while it cannot tell."""
    if not (sector and employees and revenue and assets):
        return ""
    try:
        resolved = resolve_sector(sector)
        size = classify(
            resolved.sme_sector,
            employees=int(employees),
            revenue=parse_typed_amount(revenue),
            assets=parse_typed_amount(assets),
        )
    except (UnknownSector, ValueError, InvalidOperation):
        return ""
    return f"{SECTORS[resolved.sme_sector].name_zh} · {size.label_zh}企业"
