"""Demo data for local runs (``make run``): one Qingpu manufacturer."""

from datetime import date
from decimal import Decimal

from services.loan_intake.applications import repository as repo
from services.loan_intake.config import Settings
from shared.clock import utcnow
from shared.db import make_engine, make_sessionmaker
from shared.money import to_fen

DEMO_USCC = "91310118MA1JL0000N"
DEMO_ENTERPRISE = {
    "name": "上海青浦示范精密机械有限公司",
    "registered_district": "青浦区",
    "industry_code": "C34",
    "sme_sector": "industry",
    "sme_size": "small",
    "employees": 120,
    "annual_revenue_fen": to_fen(Decimal("18000000.00")),
    "total_assets_fen": to_fen(Decimal("26000000.00")),
    "established_on": date(2016, 5, 18),
    "flags": {"specialized_new": True, "high_tech": True, "key_industry": True},
}

# The body of the curl that `make run` prints.
DEMO_APPLICATION = {
    "enterprise": {
        "name": DEMO_ENTERPRISE["name"],
        "uscc": DEMO_USCC,
        "registered_district": "青浦区",
        "sector": "C34",
        "employees": 120,
        "annual_revenue": "18000000.00",
        "total_assets": "26000000.00",
        "established_on": "2016-05-18",
        "flags": {"specialized_new": True, "high_tech": True, "key_industry": True},
    },
    "loan": {
        "amount": "3000000.00",
        "term_months": 12,
        "purpose": "采购数控机床及原材料",
        "preferred_bank": "上海农商银行",
    },
}


async def seed(settings: Settings) -> str:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            await repo.upsert_enterprise(
                session=session, enterprise={"uscc": DEMO_USCC, **DEMO_ENTERPRISE}, now=utcnow()
            )
    finally:
        await engine.dispose()
    return f"loan_intake: demo enterprise {DEMO_USCC} {DEMO_ENTERPRISE['name']}"
