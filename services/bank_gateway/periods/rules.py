"""What a period's statement holds, and what closing one freezes. Pure: no database.

Amounts are per loan and kind, in fen. A closed period's own lines never change; what a late
event changes in it (a repayment dated back, a recovery reported late) is booked in the next
period to close as an adjustment naming the period it corrects, so for every closed period
Q: Σ its own lines + Σ adjustments naming Q = what the ledger says of Q now.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The statement's kinds, in the order the bureau reads them.
KINDS: dict[str, str] = {
    "fee": "担保费",
    "fee_subsidy": "担保费补贴",
    "fee_collected": "担保费实收",
    "interest_subsidy": "贴息",
    "compensation_paid": "代偿支付",
    "recovered": "追偿回收",
    "recovery_to_fund": "追偿返还担保基金",
}
# What the district pays per firm (拨付清单): the fee subsidy and 贴息.
SUBSIDY_KINDS = ("fee_subsidy", "interest_subsidy")

Amounts = dict[tuple[uuid.UUID, str], int]


@dataclass(frozen=True)
class LoanRef:
    """Whom a loan's lines concern."""

    loan_id: uuid.UUID
    application_id: uuid.UUID
    bank_code: str
    uscc: str
    name: str


@dataclass(frozen=True)
class Line:
    loan: LoanRef
    kind: str
    fen: int
    corrects: str | None = None  # the closed period an adjustment corrects


def add(amounts: Amounts, loan_id: uuid.UUID, kind: str, fen: int) -> None:
    if fen:
        amounts[(loan_id, kind)] = amounts.get((loan_id, kind), 0) + fen


def booked(lines: Iterable[Line], own: Iterable[Line]) -> Amounts:
    """What the statements say of a closed period: its own lines and the adjustments naming
    it, summed per loan and kind."""
    amounts: Amounts = {}
    for line in [*own, *lines]:
        add(amounts, line.loan.loan_id, line.kind, line.fen)
    return amounts


def adjustments(live: Amounts, said: Amounts) -> Amounts:
    """What a closed period is short of (or over) against the ledger now: nonzero only."""
    return {
        key: live.get(key, 0) - said.get(key, 0)
        for key in sorted(set(live) | set(said), key=lambda k: (str(k[0]), k[1]))
        if live.get(key, 0) != said.get(key, 0)
    }


def lines_of(amounts: Amounts, refs: dict[uuid.UUID, LoanRef], corrects: str | None) -> list[Line]:
    return [
        Line(refs[loan_id], kind, fen, corrects)
        for (loan_id, kind), fen in amounts.items()
        if fen and loan_id in refs
    ]


@dataclass(frozen=True)
class Booked:
    """A line as stored: in the period it was booked in."""

    period_key: str
    line: Line


def corrections(
    earlier: dict[str, Amounts], stored: Sequence[Booked], refs: dict[uuid.UUID, LoanRef]
) -> list[Line]:
    """For each closed period (``earlier``: what the ledger says of it now), the adjustments
    that bring what its statements say (its own lines, the adjustments naming it) to that."""
    known = {b.line.loan.loan_id: b.line.loan for b in stored} | refs
    found: list[Line] = []
    for key, now in earlier.items():
        own = [b.line for b in stored if b.period_key == key and b.line.corrects is None]
        said = booked([b.line for b in stored if b.line.corrects == key], own)
        found += lines_of(adjustments(now, said), known, corrects=key)
    return found


def closing(
    now: Amounts,
    earlier: dict[str, Amounts],
    stored: Sequence[Booked],
    refs: dict[uuid.UUID, LoanRef],
) -> list[Line]:
    """What closing a period freezes: its own lines (``now``: the ledger's amounts of it) and
    the corrections of the periods closed before it."""
    return lines_of(now, refs, corrects=None) + corrections(earlier, stored, refs)


def totals(lines: Iterable[Line]) -> dict[str, int]:
    """Per kind, and the subsidy total (fee subsidy + 贴息)."""
    out = dict.fromkeys(KINDS, 0)
    for line in lines:
        out[line.kind] += line.fen
    out["subsidy_total"] = sum(out[k] for k in SUBSIDY_KINDS)
    return out


def grouped(lines: Iterable[Line], by: str) -> dict[str, list[Line]]:
    """Lines by bank code (``by="bank"``) or by firm (``by="enterprise"``), sorted."""
    groups: dict[str, list[Line]] = {}
    for line in lines:
        key = line.loan.bank_code if by == "bank" else line.loan.uscc
        groups.setdefault(key, []).append(line)
    return dict(sorted(groups.items()))
