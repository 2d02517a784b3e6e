"""Stored assessments are reproducible: the same input, version and date give the same result."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.guarantee.assessments import service
from shared.auth import Principal, Role
from tests.guarantee.factories import requests

LOAN_INTAKE = Principal(subject="loan_intake", role=Role.SERVICE, issuer="loan_intake")


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(requests, min_size=60, max_size=100))
async def test_every_stored_assessment_replays_identically(guarantee_app: Any, batch: list) -> None:
    """Thousands of generated applications (30 batches of 60–100), through the database."""
    sessionmaker = guarantee_app.state.sessionmaker
    async with sessionmaker() as session, session.begin():
        outcomes = await service.assess(
            session=session, principal=LOAN_INTAKE, requests=[(r, None) for r in batch]
        )
    ids = [outcome.result.assessment_id for outcome, _ in outcomes if outcome.result]
    assert len(ids) == len(batch)
    async with sessionmaker() as session:
        for assessment_id in ids:
            replay = await service.replay(session=session, assessment_id=assessment_id)
            assert replay.identical, replay.differences
