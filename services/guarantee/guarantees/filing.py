"""备案 is a decision: a filing checked against its batch and the terms frozen at assessment
before the fund stands behind the loan. Pure: no database, no HTTP.

The gateway's ledger checks a bank's figures as they arrive; the fund checks them again,
with its own policy, because a filing it accepts commits public money for years. Every
finding is listed (not just the first), in the words the bank and the SME will read.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.clock import add_months
from shared.contracts.guarantee import GuaranteeFiling


@dataclass(frozen=True)
class FilingTerms:
    """What the policy version and the assessment allow the loan."""

    max_term_months: int
    max_annual_rate: Decimal | None
    maturity_grace_days: int
    assessed_amount: Decimal


def _yuan(amount: Decimal) -> str:
    return f"¥{amount:,.2f}"


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def _window(f: GuaranteeFiling) -> list[str]:
    start, end = f.batch_valid_from, f.batch_valid_to
    if start is None or end is None or start <= f.disbursed_on <= end:
        return []
    return [f"放款日 {f.disbursed_on} 不在批次有效期 {start} 至 {end} 内"]


def _amounts(f: GuaranteeFiling, terms: FilingTerms) -> list[str]:
    found = []
    if f.approved_amount is not None and f.principal > f.approved_amount:
        found.append(f"放款金额 {_yuan(f.principal)} 超过银行批准金额 {_yuan(f.approved_amount)}")
    approved, allocated = f.approved_amount, f.allocated_amount
    if approved is not None and allocated is not None and approved > allocated:
        found.append(f"批准金额 {_yuan(approved)} 超过批次分配金额 {_yuan(allocated)}")
    if f.principal > terms.assessed_amount:
        assessed = _yuan(terms.assessed_amount)
        found.append(f"放款金额 {_yuan(f.principal)} 超过评估的申请金额 {assessed}")
    return found


def _dates(f: GuaranteeFiling, terms: FilingTerms, today: date) -> list[str]:
    found = []
    if f.approved_on is not None and f.approved_on > f.disbursed_on:
        found.append(f"放款日 {f.disbursed_on} 早于批准日 {f.approved_on}")
    if f.disbursed_on > today:
        found.append(f"放款日 {f.disbursed_on} 晚于今天 {today}")
    if f.maturity_on <= f.disbursed_on:
        found.append(f"到期日 {f.maturity_on} 不晚于放款日 {f.disbursed_on}")
    elif f.term_months is not None:
        latest = add_months(f.disbursed_on, f.term_months) + timedelta(
            days=terms.maturity_grace_days
        )
        if f.maturity_on > latest:
            found.append(
                f"到期日 {f.maturity_on} 晚于放款日加期限 {f.term_months} 个月"
                f"（另宽限 {terms.maturity_grace_days} 天）的 {latest}"
            )
    return found


def _policy(f: GuaranteeFiling, terms: FilingTerms) -> list[str]:
    found = []
    if f.term_months is not None and f.term_months > terms.max_term_months:
        found.append(f"贷款期限 {f.term_months} 个月超过政策上限 {terms.max_term_months} 个月")
    rate, cap = f.annual_interest_rate, terms.max_annual_rate
    if rate is not None and cap is not None and rate > cap:
        found.append(f"贷款年利率 {_percent(rate)} 超过政策上限 {_percent(cap)}")
    return found


def findings(filing: GuaranteeFiling, terms: FilingTerms, *, today: date) -> list[str]:
    """Why the fund cannot stand behind this loan; empty when the filing holds."""
    return [
        *_window(filing),
        *_amounts(filing, terms),
        *_dates(filing, terms, today),
        *_policy(filing, terms),
    ]
