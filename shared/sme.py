"""SME size classes of 工信部联企业〔2011〕300号, and sectors from GB/T 4754-2017.

A firm is *large* when it reaches every "large" bound of its sector; otherwise it takes
the highest band (medium, small) whose bounds it all meets; otherwise it is micro.
So 工业 with 1,500 people and ¥15 m revenue misses medium on revenue and is small.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

TEN_THOUSAND = Decimal(10000)


class SmeSize(StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"
    MICRO = "micro"

    @property
    def label_zh(self) -> str:
        return {"large": "大型", "medium": "中型", "small": "小型", "micro": "微型"}[self.value]


@dataclass(frozen=True)
class Bounds:
    """Lower bounds of one band; None = the indicator plays no part in this sector."""

    employees: int | None = None
    revenue_wan: int | None = None  # 营业收入, ¥10k
    assets_wan: int | None = None  # 资产总额, ¥10k


@dataclass(frozen=True)
class Sector:
    key: str
    name_zh: str
    large: Bounds
    medium: Bounds
    small: Bounds


def _b(p: int | None = None, r: int | None = None, a: int | None = None) -> Bounds:
    return Bounds(employees=p, revenue_wan=r, assets_wan=a)


SECTORS: dict[str, Sector] = {
    s.key: s
    for s in (
        Sector("agriculture", "农、林、牧、渔业", _b(r=20000), _b(r=500), _b(r=50)),
        Sector("industry", "工业", _b(1000, 40000), _b(300, 2000), _b(20, 300)),
        Sector(
            "construction", "建筑业", _b(r=80000, a=80000), _b(r=6000, a=5000), _b(r=300, a=300)
        ),
        Sector("wholesale", "批发业", _b(200, 40000), _b(20, 5000), _b(5, 1000)),
        Sector("retail", "零售业", _b(300, 20000), _b(50, 500), _b(10, 100)),
        Sector("transport", "交通运输业", _b(1000, 30000), _b(300, 3000), _b(20, 200)),
        Sector("warehousing", "仓储业", _b(200, 30000), _b(100, 1000), _b(20, 100)),
        Sector("postal", "邮政业", _b(1000, 30000), _b(300, 2000), _b(20, 100)),
        Sector("accommodation", "住宿业", _b(300, 10000), _b(100, 2000), _b(10, 100)),
        Sector("catering", "餐饮业", _b(300, 10000), _b(100, 2000), _b(10, 100)),
        Sector(
            "information_transmission", "信息传输业", _b(2000, 100000), _b(100, 1000), _b(10, 100)
        ),
        Sector("software_it", "软件和信息技术服务业", _b(300, 10000), _b(100, 1000), _b(10, 50)),
        Sector(
            "real_estate_development",
            "房地产开发经营",
            _b(r=200000, a=10000),
            _b(r=1000, a=5000),
            _b(r=100, a=2000),
        ),
        Sector("property_management", "物业管理", _b(1000, 5000), _b(300, 1000), _b(100, 500)),
        Sector(
            "leasing_business_services",
            "租赁和商务服务业",
            _b(300, a=120000),
            _b(100, a=8000),
            _b(10, a=100),
        ),
        Sector("other", "其他未列明行业", _b(300), _b(100), _b(10)),
    )
}
_SECTOR_BY_NAME = {s.name_zh: s for s in SECTORS.values()}


def _meets(bounds: Bounds, *, employees: int, revenue: Decimal, assets: Decimal) -> bool:
    if bounds.employees is not None and employees < bounds.employees:
        return False
    if bounds.revenue_wan is not None and revenue < bounds.revenue_wan * TEN_THOUSAND:
        return False
    return not (bounds.assets_wan is not None and assets < bounds.assets_wan * TEN_THOUSAND)


def classify(sector_key: str, *, employees: int, revenue: Decimal, assets: Decimal) -> SmeSize:
    """Size class for a firm; ``revenue`` and ``assets`` in yuan."""
    sector = SECTORS[sector_key]
    figures = {"employees": employees, "revenue": revenue, "assets": assets}
    for size, bounds in (
        (SmeSize.LARGE, sector.large),
        (SmeSize.MEDIUM, sector.medium),
        (SmeSize.SMALL, sector.small),
    ):
        if _meets(bounds, **figures):
            return size
    return SmeSize.MICRO


# --- GB/T 4754-2017 ---------------------------------------------------------------------

SECTION_DIVISIONS: dict[str, range] = {
    "A": range(1, 6),
    "B": range(6, 13),
    "C": range(13, 44),
    "D": range(44, 47),
    "E": range(47, 51),
    "F": range(51, 53),
    "G": range(53, 61),
    "H": range(61, 63),
    "I": range(63, 66),
    "J": range(66, 70),
    "K": range(70, 71),
    "L": range(71, 73),
    "M": range(73, 76),
    "N": range(76, 80),
    "O": range(80, 83),
    "P": range(83, 84),
    "Q": range(84, 86),
    "R": range(86, 91),
    "S": range(91, 98),
    "T": range(98, 99),
}
SECTION_NAMES = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}
_WHOLE_SECTION = {
    "A": "agriculture",
    "B": "industry",
    "C": "industry",
    "D": "industry",
    "E": "construction",
    "L": "leasing_business_services",
}
# Divisions that decide the 300号 sector where a section alone does not.
_BY_DIVISION = {
    51: "wholesale",
    52: "retail",
    # 300号 counts railways out of 交通运输业; they fall to 其他未列明行业.
    53: "other",
    54: "transport",
    55: "transport",
    56: "transport",
    57: "transport",
    58: "transport",
    59: "warehousing",
    60: "postal",
    61: "accommodation",
    62: "catering",
    63: "information_transmission",
    64: "information_transmission",
    65: "software_it",
}
_K_GROUPS = {701: "real_estate_development", 702: "property_management"}
_CODE = re.compile(r"^([A-T])(\d{2,4})?$")


class UnknownSector(ValueError):
    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class ResolvedSector:
    industry_code: str | None  # GB/T 4754 code as given (normalised), if one was given
    sme_sector: str  # key of SECTORS

    @property
    def sme_sector_name(self) -> str:
        return SECTORS[self.sme_sector].name_zh


def resolve_sector(raw: str) -> ResolvedSector:
    """Accept a GB/T 4754 code (``C``, ``C39``, ``K701``…) or a 300号 sector (key or name)."""
    text = raw.strip()
    if text in SECTORS:
        return ResolvedSector(None, text)
    if text in _SECTOR_BY_NAME:
        return ResolvedSector(None, _SECTOR_BY_NAME[text].key)
    match = _CODE.match(text.upper())
    if not match:
        raise UnknownSector(
            "sector_unknown",
            f"未知行业 '{text[:40]}'：请填写国民经济行业分类代码（如 C、C39、K701）或 300号文行业",
            f"unknown sector '{text[:40]}': give a GB/T 4754 code (C, C39, K701) "
            "or a 300号 sector key",
        )
    section, digits = match.group(1), match.group(2)
    code = text.upper()
    if digits:
        division = int(digits[:2])
        if division not in SECTION_DIVISIONS[section]:
            raise UnknownSector(
                "sector_unknown",
                f"行业代码 {code} 不存在：{section} 门类（{SECTION_NAMES[section]}）"
                f"不含大类 {digits[:2]}",
                f"no division {digits[:2]} in section {section}",
            )
    if section in _WHOLE_SECTION:
        return ResolvedSector(code, _WHOLE_SECTION[section])
    if section == "K":
        if not digits or len(digits) < 3:
            raise UnknownSector(
                "sector_ambiguous",
                "房地产业需填写到中类：K701 房地产开发经营、K702 物业管理或其他（如 K703）",
                "section K needs a group: K701 development, K702 property management, …",
            )
        return ResolvedSector(code, _K_GROUPS.get(int(digits[:3]), "other"))
    if section in ("F", "G", "H", "I"):
        if not digits:
            options = "、".join(
                f"{section}{d:02d} {SECTORS[_BY_DIVISION[d]].name_zh}"
                for d in SECTION_DIVISIONS[section]
                if _BY_DIVISION[d] != "other"
            )
            raise UnknownSector(
                "sector_ambiguous",
                f"{SECTION_NAMES[section]}需填写到大类，如：{options}",
                f"section {section} needs a division, "
                f"e.g. {section}{SECTION_DIVISIONS[section][0]:02d}",
            )
        return ResolvedSector(code, _BY_DIVISION[int(digits[:2])])
    # J (finance: outside 300号's scope, classified here only so the policy can refuse it
    # with a reason) and M–T.
    return ResolvedSector(code, "other")


def is_industrial(sector_key: str) -> bool:
    return sector_key == "industry"
