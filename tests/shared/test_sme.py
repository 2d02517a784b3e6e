from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.sme import SECTORS, SmeSize, UnknownSector, classify, resolve_sector

WAN = Decimal(10000)


@pytest.mark.parametrize(
    ("sector", "employees", "revenue_wan", "assets_wan", "expected"),
    [
        # DESIGN.md §8, one row per sector at and around its bounds
        ("agriculture", 0, 20000, 0, SmeSize.LARGE),
        ("agriculture", 0, 19999, 0, SmeSize.MEDIUM),
        ("agriculture", 0, 50, 0, SmeSize.SMALL),
        ("agriculture", 0, 49, 0, SmeSize.MICRO),
        ("industry", 1000, 40000, 0, SmeSize.LARGE),
        ("industry", 999, 40000, 0, SmeSize.MEDIUM),
        ("industry", 300, 2000, 0, SmeSize.MEDIUM),
        ("industry", 20, 300, 0, SmeSize.SMALL),
        ("industry", 19, 300, 0, SmeSize.MICRO),
        ("industry", 1500, 1500, 0, SmeSize.SMALL),  # the design brief's worked example
        ("construction", 0, 80000, 80000, SmeSize.LARGE),
        ("construction", 0, 6000, 5000, SmeSize.MEDIUM),
        ("construction", 0, 300, 299, SmeSize.MICRO),
        ("wholesale", 200, 40000, 0, SmeSize.LARGE),
        ("wholesale", 5, 1000, 0, SmeSize.SMALL),
        ("retail", 50, 500, 0, SmeSize.MEDIUM),
        ("retail", 9, 100, 0, SmeSize.MICRO),
        ("transport", 300, 3000, 0, SmeSize.MEDIUM),
        ("warehousing", 100, 1000, 0, SmeSize.MEDIUM),
        ("postal", 20, 100, 0, SmeSize.SMALL),
        ("accommodation", 100, 2000, 0, SmeSize.MEDIUM),
        ("catering", 10, 100, 0, SmeSize.SMALL),
        ("information_transmission", 2000, 100000, 0, SmeSize.LARGE),
        ("software_it", 10, 50, 0, SmeSize.SMALL),
        ("software_it", 10, 49, 0, SmeSize.MICRO),
        ("real_estate_development", 0, 200000, 10000, SmeSize.LARGE),
        ("real_estate_development", 0, 100, 2000, SmeSize.SMALL),
        ("property_management", 300, 1000, 0, SmeSize.MEDIUM),
        ("property_management", 100, 500, 0, SmeSize.SMALL),
        ("leasing_business_services", 300, 0, 120000, SmeSize.LARGE),
        ("leasing_business_services", 100, 0, 8000, SmeSize.MEDIUM),
        ("leasing_business_services", 10, 0, 99, SmeSize.MICRO),
        ("other", 300, 0, 0, SmeSize.LARGE),
        ("other", 100, 0, 0, SmeSize.MEDIUM),
        ("other", 10, 0, 0, SmeSize.SMALL),
        ("other", 9, 0, 0, SmeSize.MICRO),
    ],
)
def test_classification_table(
    sector: str, employees: int, revenue_wan: int, assets_wan: int, expected: SmeSize
) -> None:
    assert (
        classify(sector, employees=employees, revenue=revenue_wan * WAN, assets=assets_wan * WAN)
        == expected
    )


ORDER = [SmeSize.MICRO, SmeSize.SMALL, SmeSize.MEDIUM, SmeSize.LARGE]


@given(
    st.sampled_from(sorted(SECTORS)),
    st.integers(0, 5000),
    st.integers(0, 300_000),
    st.integers(0, 300_000),
    st.integers(0, 1000),
    st.integers(0, 50_000),
)
def test_growing_never_makes_a_firm_smaller(
    sector: str, employees: int, revenue: int, assets: int, more_people: int, more_revenue: int
) -> None:
    before = classify(sector, employees=employees, revenue=revenue * WAN, assets=assets * WAN)
    after = classify(
        sector,
        employees=employees + more_people,
        revenue=(revenue + more_revenue) * WAN,
        assets=assets * WAN,
    )
    assert ORDER.index(after) >= ORDER.index(before)


def test_one_fen_below_a_bound_is_below_it() -> None:
    assert (
        classify("industry", employees=20, revenue=300 * WAN - Decimal("0.01"), assets=Decimal(0))
        == SmeSize.MICRO
    )


@pytest.mark.parametrize(
    ("code", "sector", "industry_code"),
    [
        ("C", "industry", "C"),
        ("c39", "industry", "C39"),
        ("B06", "industry", "B06"),
        ("D44", "industry", "D44"),
        ("A01", "agriculture", "A01"),
        ("E48", "construction", "E48"),
        ("F51", "wholesale", "F51"),
        ("F5211", "retail", "F5211"),
        ("G53", "other", "G53"),  # railways are outside 300号's 交通运输业
        ("G54", "transport", "G54"),
        ("G59", "warehousing", "G59"),
        ("G60", "postal", "G60"),
        ("H61", "accommodation", "H61"),
        ("H62", "catering", "H62"),
        ("I64", "information_transmission", "I64"),
        ("I65", "software_it", "I65"),
        ("K701", "real_estate_development", "K701"),
        ("K7020", "property_management", "K7020"),
        ("K703", "other", "K703"),
        ("L72", "leasing_business_services", "L72"),
        ("M73", "other", "M73"),
        ("J66", "other", "J66"),
        ("industry", "industry", None),
        ("软件和信息技术服务业", "software_it", None),
    ],
)
def test_sector_resolution(code: str, sector: str, industry_code: str | None) -> None:
    resolved = resolve_sector(code)
    assert resolved.sme_sector == sector
    assert resolved.industry_code == industry_code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("Z", "sector_unknown"),
        ("C99", "sector_unknown"),
        ("A06", "sector_unknown"),
        ("F", "sector_ambiguous"),
        ("G", "sector_ambiguous"),
        ("K70", "sector_ambiguous"),
        ("K", "sector_ambiguous"),
        ("banking", "sector_unknown"),
        ("", "sector_unknown"),
    ],
)
def test_unknown_or_ambiguous_sectors(code: str, reason: str) -> None:
    with pytest.raises(UnknownSector) as info:
        resolve_sector(code)
    assert info.value.code == reason
    assert info.value.message_zh
