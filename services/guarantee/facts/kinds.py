"""The kinds of reference list, each the evidence for one of a firm's declared facts
(shared/contracts/assessment.py ``EnterpriseFlags``). Pure."""

from dataclasses import dataclass
from enum import StrEnum


class ListKind(StrEnum):
    SPECIALIZED_NEW = "specialized_new"
    LITTLE_GIANT = "little_giant"
    HIGH_TECH = "high_tech"
    TECH_SME = "tech_sme"
    DISHONEST_DEBTOR = "dishonest_debtor"
    PHASE_OUT = "phase_out"


@dataclass(frozen=True)
class Kind:
    flag: str  # the EnterpriseFlags field the list is evidence for
    positive: bool  # on it earns a benefit (True) or bars the firm (False)
    name_zh: str
    usual_issuer: str


KINDS: dict[ListKind, Kind] = {
    ListKind.SPECIALIZED_NEW: Kind(
        "specialized_new", True, "专精特新中小企业名单", "上海市经济和信息化委员会"
    ),
    ListKind.LITTLE_GIANT: Kind("little_giant", True, "专精特新“小巨人”企业名单", "工业和信息化部"),
    ListKind.HIGH_TECH: Kind(
        "high_tech", True, "高新技术企业名单", "上海市高新技术企业认定管理工作领导小组"
    ),
    ListKind.TECH_SME: Kind("tech_sme", True, "科技型中小企业入库名单", "上海市科学技术委员会"),
    ListKind.DISHONEST_DEBTOR: Kind(
        "bad_credit_2y", False, "失信被执行人名单", "最高人民法院（全国法院失信被执行人名单）"
    ),
    ListKind.PHASE_OUT: Kind("phase_out_list", False, "“三高一低”企业淘汰名单", "青浦区经济委员会"),
}
BY_FLAG = {kind.flag: list_kind for list_kind, kind in KINDS.items()}

# A lending bank's checks (shared/contracts/assessment.py ``BankCheck``), by the fact each
# is evidence for.
ATTESTED = {"credit_report": "bad_credit_2y", "lawsuits": "pending_lawsuit"}
