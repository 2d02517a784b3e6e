"""Which lists count on a day (facts/resolution.py and the one query that applies it): a list
in force from its day to its expiry, replaced by the next version of its series, each firm's
own validity; a firm on positive and negative lists at once. The query must agree with the
pure rules for any lists and any day."""

import uuid
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.guarantee.facts import service as lists_service
from services.guarantee.facts.kinds import ATTESTED, BY_FLAG, KINDS, ListKind
from services.guarantee.facts.repository import listings_of_firms
from services.guarantee.facts.resolution import (
    Listing,
    Version,
    attested_by_flag,
    entry_in_force,
    list_in_force,
    resolve,
    superseded_from,
)
from services.guarantee.models import ReferenceEntry, ReferenceList
from shared.contracts.assessment import Attestation, EnterpriseFlags
from tests.conftest import make_uscc

START = date(2026, 1, 1)
FIRMS = [make_uscc() for _ in range(3)]
_lists = ReferenceList.__table__  # type: ignore[attr-defined]
_entries = ReferenceEntry.__table__  # type: ignore[attr-defined]

DAY = st.integers(0, 400).map(lambda n: START + timedelta(days=n))
ENTRY = st.tuples(
    st.integers(0, 2),  # firm
    st.one_of(st.none(), DAY),  # valid from
    st.one_of(st.none(), DAY),  # valid to
)
LIST = st.tuples(
    st.sampled_from([ListKind.SPECIALIZED_NEW, ListKind.DISHONEST_DEBTOR]),
    st.sampled_from([0, 0, 1]),  # series (batch) within the kind: versions of one, mostly
    st.sampled_from(["approved", "approved", "approved", "pending_approval", "rejected"]),
    DAY,  # effective from
    st.one_of(st.none(), st.integers(0, 300)),  # lasts so many days, or no expiry
    st.lists(ENTRY, max_size=4),
)


def rows(drawn: list[Any], tag: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    lists, entries = [], []
    for kind, series, status, start, lasts, firms in drawn:
        list_id = uuid.uuid4()
        lists.append(
            {
                "id": list_id,
                "kind": kind.value,
                "issuer": "测试发布单位",
                "batch": f"{tag}-{series}",
                "title": f"名单{len(lists)}",
                "status": status,
                "effective_from": start,
                "expires_on": start + timedelta(days=lasts) if lasts is not None else None,
                "content_hash": uuid.uuid4().hex,
                "entries": len(firms),
                "created_by": "test",
                "superseded_from": None,
            }
        )
        seen = set()
        for firm, valid_from, valid_to in firms:
            if firm not in seen:
                seen.add(firm)
                entries.append(
                    {
                        "list_id": list_id,
                        "uscc": FIRMS[firm],
                        "name": "测试",
                        "valid_from": valid_from,
                        "valid_to": valid_to,
                    }
                )
    # each series' approved versions: replaced from the next one's start
    for key in {(r["kind"], r["batch"]) for r in lists}:
        series = [r for r in lists if (r["kind"], r["batch"]) == key and r["status"] == "approved"]
        ends = superseded_from([(r["effective_from"], str(r["id"])) for r in series])
        for r in series:
            r["superseded_from"] = ends[str(r["id"])]
    return lists, entries


def expected(lists: list[dict[str, Any]], entries: list[dict[str, Any]], day: date) -> dict:
    out: dict[str, set[str]] = {f: set() for f in FIRMS}
    for r in lists:
        version = Version(
            r["status"], r["effective_from"], r["expires_on"], r.get("superseded_from")
        )
        if not list_in_force(version, day):
            continue
        for e in entries:
            if e["list_id"] == r["id"] and entry_in_force(e["valid_from"], e["valid_to"], day):
                out[e["uscc"]].add(r["kind"])
    return out


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(LIST, min_size=1, max_size=6), days=st.lists(DAY, min_size=1, max_size=6))
async def test_the_query_counts_exactly_the_lists_the_rules_say_are_in_force(
    guarantee_app: Any, drawn: list[Any], days: list[date]
) -> None:
    lists, entries = rows(drawn, uuid.uuid4().hex[:8])
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(sa.insert(_lists), lists)
        if entries:
            await session.execute(sa.insert(_entries), entries)
        for day in days:
            found = await listings_of_firms(session=session, usccs=FIRMS, day=day)
            # only this example's lists (the database is shared)
            ours = {str(r["id"]) for r in lists}
            got = {
                firm: {k.value for k, listing in kinds.items() if listing.list_id in ours}
                for firm, kinds in found.items()
            }
            assert got == expected(lists, entries, day), day
        ids = [r["id"] for r in lists]
        await session.execute(sa.delete(_entries).where(_entries.c.list_id.in_(ids)))
        await session.execute(sa.delete(_lists).where(_lists.c.id.in_(ids)))


def named_in_trial(
    lists: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    candidate: dict[str, Any],
    firm: str,
    day: date,
) -> bool:
    """The firm on a list of the candidate's kind that day, were the candidate in force in
    place of its series: the candidate itself (its entries' own dates still apply), or an
    approved list of another series in force."""
    for r in lists:
        if r["kind"] != candidate["kind"]:
            continue
        if r["id"] != candidate["id"]:
            same_series = (r["issuer"], r["batch"]) == (candidate["issuer"], candidate["batch"])
            version = Version(
                r["status"], r["effective_from"], r["expires_on"], r["superseded_from"]
            )
            if same_series or not list_in_force(version, day):
                continue
        if any(
            e["list_id"] == r["id"]
            and e["uscc"] == firm
            and entry_in_force(e["valid_from"], e["valid_to"], day)
            for e in entries
        ):
            return True
    return False


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=st.lists(LIST, min_size=1, max_size=6),
    pick=st.integers(0, 5),
    days=st.lists(DAY, min_size=1, max_size=4),
)
async def test_a_tried_list_counts_in_place_of_its_series_whatever_its_status(
    guarantee_app: Any, drawn: list[Any], pick: int, days: list[date]
) -> None:
    """What-if over a list version (whatif with ``reference_list_id``): for each firm and
    day, the query and the pure pick agree with the rules applied by hand."""
    lists, entries = rows(drawn, uuid.uuid4().hex[:8])
    candidate = lists[pick % len(lists)]
    wanted = {(firm, day) for firm in FIRMS for day in days}
    async with guarantee_app.state.sessionmaker() as session, session.begin():
        await session.execute(sa.insert(_lists), lists)
        if entries:
            await session.execute(sa.insert(_entries), entries)
        tried = await lists_service.trial(session=session, list_id=candidate["id"], wanted=wanted)
        for firm, day in wanted:
            got = tried.found[(firm, day)]
            assert (got is not None) == named_in_trial(lists, entries, candidate, firm, day), (
                firm,
                day,
            )
            assert got is None or got.kind.value == candidate["kind"]
        ids = [r["id"] for r in lists]
        await session.execute(sa.delete(_entries).where(_entries.c.list_id.in_(ids)))
        await session.execute(sa.delete(_lists).where(_lists.c.id.in_(ids)))


FLAGS = st.fixed_dictionaries({name: st.booleans() for name in EnterpriseFlags.model_fields})
KINDS_FOUND = st.sets(st.sampled_from(list(ListKind)))


@given(declared=FLAGS, listed=KINDS_FOUND, unverified=st.sampled_from(["ignore", "refer"]))
def test_a_list_always_wins_and_a_benefit_declared_only_is_worth_what_the_policy_says(
    declared: dict[str, bool], listed: set[ListKind], unverified: Any
) -> None:
    found = {k: Listing(str(uuid.uuid4()), k, "名单", "发布单位", "第一批") for k in listed}
    resolved = resolve(EnterpriseFlags(**declared), found, unverified)
    by_flag = {f.flag: f for f in resolved.facts}
    for kind, spec in KINDS.items():
        fact = by_flag[spec.flag]
        if kind in listed:  # on a list in force: true, whatever was ticked, the list named
            assert fact.value and fact.source is found[kind]
            assert fact.standing == (
                "contradicted" if not spec.positive and not fact.declared else "verified"
            )
        elif spec.positive:  # a benefit no list shows
            assert fact.value == (fact.declared and unverified == "refer")
            assert (fact.standing == "declared_only") == fact.declared
        else:  # a bar no list shows: the firm's own word
            assert fact.value == fact.declared
    # a firm on both a positive and a negative list: both hold
    assert resolved.flags.specialized_new == (
        ListKind.SPECIALIZED_NEW in listed
        or (declared["specialized_new"] and unverified == "refer")
    )
    assert resolved.flags.bad_credit_2y == (
        ListKind.DISHONEST_DEBTOR in listed or declared["bad_credit_2y"]
    )
    # no list covers these: as declared
    for flag in ("key_industry", "pending_lawsuit"):
        assert getattr(resolved.flags, flag) == declared[flag]
    assert [f for f in resolved.to_refer] == [
        f for f in resolved.facts if f.standing == "declared_only" and unverified == "refer"
    ]


CHECKS = st.dictionaries(
    st.sampled_from(["credit_report", "lawsuits"]), st.sampled_from(["clear", "adverse"])
)


@given(declared=FLAGS, listed=KINDS_FOUND, checks=CHECKS)
def test_a_banks_check_counts_where_neither_the_firm_nor_a_list_says_otherwise(
    declared: dict[str, bool], listed: set[ListKind], checks: dict[str, str]
) -> None:
    found = {k: Listing(str(uuid.uuid4()), k, "名单", "发布单位", "第一批") for k in listed}
    attestations = [
        Attestation(
            check=check,  # type: ignore[arg-type]
            result=result,  # type: ignore[arg-type]
            checked_on=date(2026, 3, 1),
            checked_by="信贷员",
            bank_code="srcb",
        )
        for check, result in checks.items()
    ]
    without = resolve(EnterpriseFlags(**declared), found, "ignore")
    resolved = resolve(EnterpriseFlags(**declared), found, "ignore", attested_by_flag(attestations))
    for check, flag in ATTESTED.items():
        fact = next(f for f in resolved.facts if f.flag == flag)
        listed_bar = BY_FLAG.get(flag) in listed
        if check in checks and not declared[flag] and not listed_bar:
            # The bank's finding is what counts, and who found it is kept.
            assert fact.standing == "attested" and fact.attestation is not None
            assert fact.value == (checks[check] == "adverse")
        else:  # the firm's own admission, or a list, wins over the bank's check
            assert fact == next(f for f in without.facts if f.flag == flag)
    # A bank's check never touches a benefit.
    for flag in ("specialized_new", "little_giant", "high_tech", "tech_sme", "key_industry"):
        assert getattr(resolved.flags, flag) == getattr(without.flags, flag)
