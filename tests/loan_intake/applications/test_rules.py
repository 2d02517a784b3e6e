"""Property tests of the application state machine (DESIGN.md §4).

1. ``transition`` alone: any sequence of attempted moves leaves a history that is a path
   through TRANSITIONS, refused moves change nothing, and terminal states absorb.
2. Against the database: submissions, repeated and out-of-order decision deliveries and
   withdrawals, in any order, record at most one decision per application and none after
   a withdrawal.
"""

import asyncio
import itertools
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from services.loan_intake.applications import repository, rules, service, submission, updates
from services.loan_intake.applications.exceptions import TransitionNotAllowed
from services.loan_intake.applications.rules import TRANSITIONS
from services.loan_intake.applications.schemas import ApplicationCreate
from services.loan_intake.models import Application, ApplicationStatus
from shared.auth import Principal, Role
from shared.contracts.assessment import AssessmentResult, Decision, Reason
from shared.db import make_engine, make_sessionmaker
from tests.conftest import Databases, application_body, make_uscc

S = ApplicationStatus
TERMINAL = {s for s, targets in TRANSITIONS.items() if not targets}


class TransitionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.application = Application(
            enterprise_id=1,
            enterprise_uscc="x",
            enterprise_snapshot={},
            amount_fen=1,
            term_months=1,
            purpose="x",
            status=S.SUBMITTED.value,
            submitted_by="t",
        )
        self.path = [S.SUBMITTED]

    @rule(to=st.sampled_from(list(S)))
    def attempt(self, to: ApplicationStatus) -> None:
        target = to
        before = S(self.application.status)
        try:
            event = rules.transition(self.application, target, actor="t", reason="r")
        except TransitionNotAllowed:
            assert target not in TRANSITIONS[before]
            assert self.application.status == before.value
            return
        assert target in TRANSITIONS[before]
        assert (event.from_status, event.to_status) == (before.value, target.value)
        self.path.append(target)

    @invariant()
    def history_is_a_path(self) -> None:
        for a, b in itertools.pairwise(self.path):
            assert b in TRANSITIONS[a]
        if S.WITHDRAWN in self.path:
            assert S.ALLOCATED not in self.path[: self.path.index(S.WITHDRAWN)]
        for terminal in TERMINAL & set(self.path):
            assert self.path[-1] == terminal


TestTransitions = TransitionMachine.TestCase
TestTransitions.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)


BUREAU = Principal(subject="prop", role=Role.BUREAU, issuer="bank_gateway")


def result_for(application_id: uuid.UUID, decision: Decision, score: int) -> AssessmentResult:
    return AssessmentResult(
        assessment_id=uuid.uuid4(),
        application_id=application_id,
        decision=decision,
        score=score,
        reasons=[Reason(code="r", passed=True, message_zh="通过", message_en="ok")],
        terms=None,
        policy_version_id=uuid.uuid4(),
        policy_name="p",
        policy_version=1,
        assessed_at=datetime.now(UTC),
    )


@pytest.fixture(scope="module")
def lifecycle_db(databases: Databases) -> str:
    return databases.new("lifecycle", migrate="loan_intake")


def test_deliveries_and_withdrawals_in_any_order(lifecycle_db: str) -> None:
    class Deliveries(RuleBasedStateMachine):
        applications = Bundle("applications")

        def __init__(self) -> None:
            super().__init__()
            self.runner = asyncio.Runner()
            self.engine = self.runner.run(self._engine())
            self.sessionmaker = make_sessionmaker(self.engine)
            self.withdrawn: set[uuid.UUID] = set()
            self.created: list[uuid.UUID] = []

        async def _engine(self):  # type: ignore[no-untyped-def]
            return make_engine(lifecycle_db)

        def teardown(self) -> None:
            self.runner.run(self.engine.dispose())
            self.runner.close()

        def run(self, coroutine_function):  # type: ignore[no-untyped-def]
            async def in_transaction():  # type: ignore[no-untyped-def]
                async with self.sessionmaker() as session, session.begin():
                    return await coroutine_function(session)

            return self.runner.run(in_transaction())

        @rule(target=applications)
        def submit(self) -> uuid.UUID:
            payload = ApplicationCreate.model_validate(application_body(make_uscc()))
            submitted = self.run(
                lambda session: submission.submit_application(
                    session=session,
                    principal=BUREAU,
                    payload=payload,
                    idempotency=None,
                    request_id=None,
                )
            )
            self.created.append(submitted.application_id)
            return submitted.application_id

        @rule(
            chosen=st.lists(applications, min_size=1, max_size=4),
            decision=st.sampled_from(list(Decision)),
            score=st.integers(0, 100),
        )
        def deliver(self, chosen: list[uuid.UUID], decision: Decision, score: int) -> None:
            results = [result_for(a, decision, score) for a in chosen]
            self.run(lambda session: updates.record_assessments(session=session, results=results))

        @rule(application_id=applications)
        def withdraw(self, application_id: uuid.UUID) -> None:
            async def attempt(session):  # type: ignore[no-untyped-def]
                try:
                    await service.withdraw_application(
                        session=session,
                        principal=BUREAU,
                        application_id=application_id,
                        reason="不再需要",
                    )
                except TransitionNotAllowed:
                    return False
                return True

            if self.run(attempt):
                self.withdrawn.add(application_id)

        @invariant()
        def each_application_is_decided_at_most_once(self) -> None:
            async def check(session):  # type: ignore[no-untyped-def]
                for application_id in self.created:
                    application = await repository.get_application(
                        session=session, application_id=application_id
                    )
                    assert application is not None
                    events = await repository.list_events(
                        session=session, application_id=application.id
                    )
                    path = [S(e.to_status) for e in events]
                    assert path[:2] == [S.SUBMITTED, S.ASSESSING]
                    for a, b in itertools.pairwise(path):
                        assert b in TRANSITIONS[a]
                    decisions = [p for p in path if p in (S.ELIGIBLE, S.INELIGIBLE, S.REFERRED)]
                    assert len(decisions) <= 1
                    assert S(application.status) == path[-1]
                    if application.id in self.withdrawn:
                        assert path[-1] == S.WITHDRAWN
                        assert path.index(S.WITHDRAWN) == len(path) - 1

            self.run(check)

    Deliveries.TestCase.settings = settings(
        max_examples=15,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    Deliveries.TestCase().runTest()
