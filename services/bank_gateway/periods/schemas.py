"""API shapes of fiscal periods and their statements (money as strings, in yuan)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Money


class Figures(BaseModel):
    fee: Money = Field(description="担保费: fees falling due in the period")
    fee_subsidy: Money = Field(description="担保费补贴: the district's share of them")
    fee_collected: Money = Field(description="担保费实收: fees the fund received from firms")
    interest_subsidy: Money = Field(description="贴息")
    subsidy_total: Money = Field(description="补贴合计: fee subsidy + 贴息 (what the bureau pays)")
    compensation_paid: Money = Field(description="代偿支付: paid by the fund to banks")
    recovered: Money = Field(description="追偿回收: recovered by banks after default")
    recovery_to_fund: Money = Field(description="追偿返还: the fund's share of recoveries")


class BankRow(Figures):
    bank_code: str
    bank_name: str


class PayoutPublic(BaseModel):
    amount: Money
    voucher_number: str
    paid_on: date
    paid_by: str
    paid_by_name: str = ""


class EnterpriseRow(Figures):
    uscc: str
    enterprise_name: str
    banks: list[str]
    payout: PayoutPublic | None = None


class AdjustmentRow(BaseModel):
    corrects: str = Field(description="The closed period this corrects")
    corrects_label: str
    uscc: str
    enterprise_name: str
    bank_code: str
    kind: str
    kind_zh: str
    amount: Money = Field(description="Added to (or, negative, taken from) the period corrected")


class PeriodSummary(BaseModel):
    key: str
    label: str
    kind: Literal["monthly", "quarterly"]
    first_day: date
    last_day: date
    status: Literal["open", "closed"]
    closed_by: str | None = None
    closed_at: datetime | None = None
    closable: bool = Field(
        description="The oldest open period, ended: a bureau approver may close it"
    )


class PeriodList(BaseModel):
    items: list[PeriodSummary]


class Statement(PeriodSummary):
    """A period's statement: frozen once closed; for an open period, what closing it now
    would freeze (adjustments included)."""

    banks: list[BankRow]
    enterprises: list[EnterpriseRow]
    adjustments: list[AdjustmentRow]
    totals: Figures
    own_totals: Figures = Field(description="The period's own lines, adjustments left out")


class PayoutCreate(BaseModel):
    """The bureau paid firms their subsidies of a closed period (one voucher)."""

    model_config = ConfigDict(extra="forbid")

    usccs: list[str] | None = Field(
        None, max_length=1000, description="The firms paid; none given: every firm not yet paid"
    )
    voucher_number: str = Field(min_length=1, max_length=60, description="拨付凭证号")
    paid_on: date


class PayoutResult(BaseModel):
    paid: int = Field(description="Firms marked paid now")
    already_paid: list[str] = Field(description="Firms paid before (left as they were)")
    amount: Money = Field(description="Paid now, in total")
