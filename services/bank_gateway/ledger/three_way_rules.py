"""What the three services must agree on about one loan (issue 15), and every difference
with its likely cause. Pure: no database, no HTTP; amounts in fen.

The gateway's ledger is the reference — it holds what the bank reported, checked. The fund
(the guarantee service) must hold a guarantee for every loan it did not refuse, with the
ledger's outstanding principal as its 在保余额 until it is released: on settlement (reason
``settled``) or on a payout (``compensated``). What the fund decided and paid on a claim is
what the ledger recorded as compensation, and so are its shares of recoveries. The SME's
application (loan_intake) is in the loan's state. A difference while a notice about the
loan is still on its way is *in flight* — it closes by itself when the notice arrives.
"""

import uuid
from dataclasses import dataclass

from shared.contracts.reconciliation import FundLoanView
from shared.money import from_fen, to_fen

# The fund stands behind these with the ledger's outstanding principal.
IN_FORCE = frozenset({"disbursed", "repaying", "overdue", "defaulted", "claimed", "recovering"})


@dataclass(frozen=True)
class LedgerLoan:
    loan_id: uuid.UUID
    application_id: uuid.UUID
    enterprise_name: str
    state: str
    outstanding_fen: int
    compensation_fen: int
    compensation_paid_fen: int
    fund_recovered_fen: int


@dataclass(frozen=True)
class Difference:
    loan_id: uuid.UUID
    application_id: uuid.UUID
    enterprise_name: str
    source: str  # guarantee | intake
    what: str  # the figure, in Chinese
    ledger: str
    other: str
    in_flight: bool

    @property
    def cause(self) -> str:
        if self.in_flight:
            return "有关通知尚在投递途中，送达后自动一致"
        return "无在途通知：需人工核查（对方记录与台账不符）"


def _yuan(fen: int) -> str:
    return f"¥{from_fen(fen):,}"


def _expected_release(loan: LedgerLoan) -> str | None:
    if loan.state == "settled":
        return "settled"
    if loan.compensation_fen > 0:
        return "compensated"
    return None


def in_force_fen(loan: LedgerLoan) -> int:
    """The 在保余额 the fund must hold for the loan: its outstanding until released."""
    in_force = _expected_release(loan) is None and loan.state in IN_FORCE
    return loan.outstanding_fen if in_force else 0


def _fund_pairs(loan: LedgerLoan, fund: FundLoanView) -> list[tuple[str, str, str]]:
    """(what, ledger's, fund's) for each figure the fund must agree on."""
    pairs = [
        ("解保", _expected_release(loan) or "未解保", fund.release_reason or "未解保"),
        ("在保余额", _yuan(in_force_fen(loan)), _yuan(to_fen(fund.outstanding))),
        ("已决定代偿", _yuan(loan.compensation_fen), _yuan(to_fen(fund.payout))),
        ("已支付代偿", _yuan(loan.compensation_paid_fen), _yuan(to_fen(fund.paid))),
        ("基金追偿所得", _yuan(loan.fund_recovered_fen), _yuan(to_fen(fund.fund_recovered))),
    ]
    return [(what, ours, theirs) for what, ours, theirs in pairs if ours != theirs]


def differences(
    loan: LedgerLoan,
    fund: FundLoanView | None,
    intake_status: str | None,
    *,
    in_flight: bool,
) -> list[Difference]:
    """Every way the fund and intake disagree with the ledger about ``loan``."""

    def found(source: str, what: str, ours: str, theirs: str, flying: bool) -> Difference:
        return Difference(
            loan.loan_id,
            loan.application_id,
            loan.enterprise_name,
            source,
            what,
            ours,
            theirs,
            flying,
        )

    out = []
    fund_flying = in_flight or bool(fund and fund.notices_pending)
    if loan.state == "unguaranteed":
        if fund is not None and fund.guaranteed:
            out.append(found("guarantee", "担保", "备案被拒，无担保", "有担保", fund_flying))
    elif fund is None or not fund.guaranteed:
        out.append(found("guarantee", "担保", "应有担保", "担保基金无此担保", fund_flying))
    else:
        out += [found("guarantee", w, a, b, fund_flying) for w, a, b in _fund_pairs(loan, fund)]
    if intake_status != loan.state:
        out.append(found("intake", "申请状态", loan.state, intake_status or "无此申请", in_flight))
    return out
