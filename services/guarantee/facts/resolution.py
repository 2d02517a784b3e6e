"""A firm's declared facts resolved against the reference lists in force on the day it
applied (issue 18). Pure: the lists found for the firm in, each fact's standing out.

- **verified** — the firm is on a list of the fact's kind in force that day (the list named);
  a benefit applies whether or not the firm ticked it.
- **declared only** — the firm ticked a benefit no list in force shows: the policy says
  whether the benefit is ignored (``ignore``) or the application referred to the bureau
  (``refer``) to check the firm's certificate.
- **contradicted** — the firm left a bar unticked (失信, 三高一低) but is on its list: the bar
  applies, the list named.
- **declared** — a bar the firm itself declared; **unchecked** — a fact no list covers
  (重点产业, 未决诉讼): the firm's word stands; **absent** — neither ticked nor listed.
- **attested** — a bar the lending bank checked itself (its credit report, the court
  records: ``Attestation``) and the firm did not declare: the bank's finding stands, unless
  a list names the firm (a list always wins).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.guarantee.facts.kinds import ATTESTED, BY_FLAG, KINDS, ListKind
from shared.contracts.assessment import Attestation, EnterpriseFlags

Standing = Literal[
    "verified", "declared_only", "contradicted", "declared", "attested", "unchecked", "absent"
]
Unverified = Literal["ignore", "refer"]


@dataclass(frozen=True)
class Listing:
    """The list a firm was found on (what the trace and the firm's page name)."""

    list_id: str
    kind: ListKind
    title: str
    issuer: str
    batch: str


@dataclass(frozen=True)
class Fact:
    flag: str
    declared: bool
    value: bool  # what the assessment goes by
    standing: Standing
    source: Listing | None = None
    attestation: Attestation | None = None


@dataclass(frozen=True)
class Resolved:
    flags: EnterpriseFlags
    facts: list[Fact]

    @property
    def to_refer(self) -> list[Fact]:
        """Benefits declared only, which the policy sends to the bureau to check."""
        return [f for f in self.facts if f.standing == "declared_only" and f.value]


def attested_by_flag(attestations: Iterable[Attestation]) -> dict[str, Attestation]:
    """The bank's checks by the fact each is evidence for."""
    return {ATTESTED[a.check]: a for a in attestations}


def resolve(
    declared: EnterpriseFlags,
    found: Mapping[ListKind, Listing],
    unverified: Unverified,
    attested: Mapping[str, Attestation] | None = None,
) -> Resolved:
    facts = []
    for flag in EnterpriseFlags.model_fields:
        ticked = bool(getattr(declared, flag))
        kind = BY_FLAG.get(flag)
        checked = (attested or {}).get(flag)
        if checked is not None and not ticked and (kind is None or kind not in found):
            value = checked.result == "adverse"
            facts.append(Fact(flag, False, value, "attested", attestation=checked))
            continue
        if kind is None:
            facts.append(Fact(flag, ticked, ticked, "unchecked" if ticked else "absent"))
            continue
        source = found.get(kind)
        if KINDS[kind].positive:
            if source is not None:
                facts.append(Fact(flag, ticked, True, "verified", source))
            elif ticked:
                facts.append(Fact(flag, True, unverified == "refer", "declared_only"))
            else:
                facts.append(Fact(flag, False, False, "absent"))
        elif source is not None:
            facts.append(Fact(flag, ticked, True, "verified" if ticked else "contradicted", source))
        else:
            facts.append(Fact(flag, ticked, ticked, "declared" if ticked else "absent"))
    flags = EnterpriseFlags(**{f.flag: f.value for f in facts})
    return Resolved(flags, facts)


@dataclass(frozen=True)
class Version:
    """What decides whether a list counts on a day (the fields of ``reference_lists``)."""

    status: str
    effective_from: date | None
    expires_on: date | None
    superseded_from: date | None


def list_in_force(version: Version, day: date) -> bool:
    """Approved, begun, not expired (its last day included), not yet replaced."""
    return (
        version.status == "approved"
        and version.effective_from is not None
        and version.effective_from <= day
        and (version.expires_on is None or day <= version.expires_on)
        and (version.superseded_from is None or day < version.superseded_from)
    )


def entry_in_force(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """The entry's own validity (a certificate's dates), when the list gives it."""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


def superseded_from(effective: list[tuple[date, str]]) -> dict[str, date | None]:
    """For one series' approved versions as (effective_from, id): each version is replaced
    from the next one's start (ties: the later id in the given order wins the day)."""
    ordered = sorted(enumerate(effective), key=lambda x: (x[1][0], x[0]))
    out: dict[str, date | None] = {}
    for i, (_, (_, ident)) in enumerate(ordered):
        out[ident] = ordered[i + 1][1][0] if i + 1 < len(ordered) else None
    return out


@dataclass(frozen=True)
class Named:
    """One list naming a firm, with what decides whether it counts on a day."""

    listing: Listing
    version: Version
    valid_from: date | None = None
    valid_to: date | None = None


def listing_on(named: list[Named], day: date) -> Listing | None:
    """The list that counts for the firm on ``day`` among ``named`` (one kind): the latest
    begun in force, as the assessment's own query picks it."""
    counting = [
        n
        for n in named
        if list_in_force(n.version, day) and entry_in_force(n.valid_from, n.valid_to, day)
    ]
    counting.sort(key=lambda n: (-(n.version.effective_from or day).toordinal(), n.listing.list_id))
    return counting[0].listing if counting else None


@dataclass(frozen=True)
class Trial:
    """A list version tried as if in force (a what-if): for each (firm, day) replayed, the
    list of its kind that would then count, or None. Plain data: it crosses processes."""

    kind: ListKind
    found: dict[tuple[str, date], Listing | None]

    def applied(self, resolved: "Resolved", uscc: str, day: date) -> dict[ListKind, Listing]:
        """The lists an assessment went by, with this kind's as the trial says."""
        found = {f.source.kind: f.source for f in resolved.facts if f.source is not None}
        found.pop(self.kind, None)
        listing = self.found.get((uscc, day))
        if listing is not None:
            found[self.kind] = listing
        return found
