"""Assessment requests for the guarantee tests: one changed field by field, or generated."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from shared.contracts.assessment import AssessmentRequest
from shared.sme import SECTORS, SmeSize
from tests.conftest import make_uscc

AS_OF = date(2026, 11, 25)


def make_request(**changes: Any) -> AssessmentRequest:
    """A plain Qingpu manufacturer, a new firm each time (its own 在保余额 cap);
    ``enterprise__x=…`` / ``loan__x=…`` change one field."""
    enterprise: dict[str, Any] = {
        "uscc": make_uscc(),
        "name": "测试企业",
        "registered_district": "青浦区",
        "industry_code": "C39",
        "sme_sector": "industry",
        "sme_size": "small",
        "employees": 80,
        "annual_revenue": "12000000.00",
        "total_assets": "9000000.00",
        "established_on": "2018-03-01",
        "flags": {},
    }
    loan: dict[str, Any] = {"amount": "2000000.00", "term_months": 12, "purpose": "设备"}
    for key, value in list(changes.items()):
        if key == "as_of":
            continue
        part, field = key.split("__", 1)
        (enterprise if part == "enterprise" else loan)[field] = value
    as_of = date.fromisoformat(changes.pop("as_of", AS_OF.isoformat()))
    return AssessmentRequest(
        application_id=uuid.uuid4(),
        submitted_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        as_of=as_of,
        enterprise=enterprise,
        loan=loan,
    )


request = make_request

# Applications across the whole input space of the shipped policy.
requests = st.builds(
    lambda district, size, sector, years, revenue_fen, amount_fen, term, flags, land, debt, day: (
        request(
            as_of=day.isoformat(),
            enterprise__registered_district=district,
            enterprise__sme_size=size,
            enterprise__sme_sector=sector,
            enterprise__industry_code=None,
            enterprise__established_on=date(2026 - years, 6, 1).isoformat(),
            enterprise__annual_revenue=str(Decimal(revenue_fen) / 100),
            enterprise__flags=flags,
            enterprise__land_area_mu=land,
            enterprise__total_liabilities=debt,
            loan__amount=str(Decimal(amount_fen) / 100),
            loan__term_months=term,
        )
    ),
    st.sampled_from(["青浦区", "嘉定区"]),
    st.sampled_from([s.value for s in SmeSize]),
    st.sampled_from(sorted(SECTORS)),
    st.integers(0, 40),
    st.integers(0, 10**11),
    st.integers(1, 5 * 10**9),
    st.integers(1, 120),
    st.fixed_dictionaries(
        {},
        optional={
            k: st.booleans()
            for k in (
                "specialized_new",
                "little_giant",
                "high_tech",
                "tech_sme",
                "key_industry",
                "bad_credit_2y",
                "pending_lawsuit",
                "phase_out_list",
            )
        },
    ),
    st.one_of(st.none(), st.sampled_from(["0", "0.5", "12", "300.25"])),
    st.one_of(st.none(), st.integers(0, 10**10).map(lambda fen: str(Decimal(fen) / 100))),
    st.dates(date(2026, 1, 1), AS_OF),
)


def list_file(usccs: list[str], name: str = "测试企业") -> bytes:
    """A list as an issuer sends it: CSV with the usual Chinese headers."""
    rows = [
        "序号,统一社会信用代码,企业名称",
        *(f"{i},{u},{name}{i}" for i, u in enumerate(usccs, 1)),
    ]
    return ("\n".join(rows) + "\n").encode()


async def approved_list(
    client: Any,
    tokens: Any,
    kind: str,
    usccs: list[str],
    *,
    effective_from: date = date(2026, 1, 1),
    batch: str | None = None,
    expires_on: date | None = None,
) -> dict[str, Any]:
    """A list imported by alice, submitted, approved by carol (an approver): in force."""
    alice = tokens.header(tokens.bureau("alice"))
    carol = tokens.header(tokens.bureau("carol", approver=True))
    imported = await client.post(
        "/v1/reference-lists/files",
        params={
            "kind": kind,
            "issuer": "上海市经济和信息化委员会",
            "batch": batch or f"测试批次{uuid.uuid4().hex[:6]}",
            "title": "测试名单",
            "filename": "名单.csv",
        },
        content=list_file(usccs),
        headers={**alice, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text
    list_id = imported.json()["list"]["id"]
    submitted = await client.post(
        f"/v1/reference-lists/{list_id}/submission",
        json={
            "effective_from": effective_from.isoformat(),
            "expires_on": expires_on.isoformat() if expires_on else None,
        },
        headers=alice,
    )
    assert submitted.status_code == 200, submitted.text
    approved = await client.post(f"/v1/reference-lists/{list_id}/approval", json={}, headers=carol)
    assert approved.status_code == 200, approved.text
    return approved.json()
