from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.loan_intake.applications.schemas import ApplicationPage
from shared.money import Money


class EnterpriseListed(BaseModel):
    uscc: str
    name: str
    registered_district: str
    sme_sector_name: str
    sme_size_label: str
    applications: int = Field(description="How many applications the firm filed")
    latest_status_label: str | None
    latest_applied_at: datetime | None


class EnterprisePage(BaseModel):
    items: list[EnterpriseListed]
    total: int
    page: int
    page_size: int


class Contact(BaseModel):
    name: str
    phone: str
    verified: bool = Field(description="Its hold on the firm proven (一网通办 or papers)")
    registered_at: datetime


class Financials(BaseModel):
    """As declared in the latest application."""

    as_of: datetime = Field(description="When that application was filed")
    employees: int
    annual_revenue: Money
    total_assets: Money
    total_liabilities: Money | None
    debt_ratio: Decimal | None = Field(description="负债 ÷ 资产, 4 places")
    established_on: date
    flags_zh: list[str] = Field(description="Declared facts (专精特新, 诉讼 …) in Chinese")


class EnterpriseProfile(BaseModel):
    uscc: str
    name: str
    registered_district: str
    industry_code: str | None
    sme_sector_name: str
    sme_size_label: str
    contacts: list[Contact]
    financials: Financials | None
    applications: ApplicationPage
