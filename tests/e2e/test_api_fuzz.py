"""Schemathesis against each service's own OpenAPI document, over real HTTP to real
processes: whatever it generates — valid or not — never gets a 500, every answer matches
its documented schema and content type, and every status (each 4xx included) is one the
operation documents.

Each operation is called as a caller the authorization matrix allows (so the fuzzing
reaches the handler, not just the 401), bounded in examples per operation to keep
``make test`` quick.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation

from deploy.local import LocalStack
from tests.conftest import Tokens
from tests.security.test_authorization import World, cases

pytestmark = pytest.mark.e2e

EXAMPLES_PER_OPERATION = 25


@schemathesis.check
def no_unplanned_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """Never a 500; another 5xx only where the operation documents it as a deliberate
    answer (503 no-policy-in-force: ask again once a policy is in force)."""
    if response.status_code < 500:
        return None
    if (
        response.status_code != 500
        and str(response.status_code) in case.operation.definition.raw["responses"]
    ):
        return None
    return not_a_server_error(ctx, response, case)


@schemathesis.check
def invalid_data_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's negative-data check, also taking 413 (the body-size limit) as a
    refusal: a string at its schema's maxLength can pass the byte limit in JSON escapes."""
    if response.status_code == 413:
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    no_unplanned_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    invalid_data_refused,
]

# Placeholders: only the table's "who may call" is used here, not its objects.
_NOBODY = "00000000-0000-4000-8000-000000000000"
_TABLE = cases(World(*(_NOBODY for _ in range(10))))


def caller_for(service: str, method: str, path: str) -> str:
    """The first caller the matrix lets through this operation's authorization."""
    [case] = [
        c for c in _TABLE if (c.service, c.method, c.template) == (service, method.upper(), path)
    ]
    return next(
        (who for who, status in case.expected.items() if status not in (401, 403, 404)),
        "anonymous",
    )


def token_of(tokens: Tokens, caller: str) -> str | None:
    return {
        "anonymous": None,
        "sme_a": tokens.sme("91310118MA1JL7XK3C"),
        "bureau": tokens.bureau("fuzz-bureau"),
        "approver": tokens.bureau("fuzz-approver", approver=True),
        "bank_a": tokens.bank("srcb"),
        "admin": tokens.admin(),
        "fund": tokens.fund("fuzz-fund"),
        "intake": tokens.service("loan_intake"),
        "guarantee": tokens.service("guarantee"),
        "gateway": tokens.service("bank_gateway"),
    }[caller]


BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    print_blob=False,
)


def examine(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @BOUNDED
    def run(case: Any) -> None:
        # A case whose headers were made invalid on purpose (Authorization left out) is sent
        # as generated: adding our token back would make it valid and its 200 a "failure".
        spoilt = case.meta is not None and any(
            location is ParameterLocation.HEADER and info.mode is GenerationMode.NEGATIVE
            for location, info in case.meta.components.items()
        )
        sent = {} if spoilt else headers
        case.call_and_validate(base_url=base_url, headers=sent, checks=CHECKS, timeout=10)

    run()


def fuzz(stack: LocalStack, tokens: Tokens, service: str) -> None:
    """Every operation of ``service``, with valid and with invalid data; one report listing
    each operation that failed and how."""
    schema = schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    for operation in operations:
        caller = caller_for(service, operation.method, operation.path)
        token = token_of(tokens, caller)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                examine(operation, mode, stack.url(service), headers)
            except Unsatisfiable:
                pass  # nothing of this operation can be made invalid (no parameters, no body)
            except (AssertionError, FailureGroup) as failure:  # all reported at the end
                failures.append(f"{operation.label} ({mode.value}, as {caller}): {failure}")
    assert not failures, "\n\n".join(failures)


def test_loan_intake_api(stack: LocalStack, stack_tokens: Tokens) -> None:
    fuzz(stack, stack_tokens, "loan_intake")


def test_guarantee_api(stack: LocalStack, stack_tokens: Tokens) -> None:
    fuzz(stack, stack_tokens, "guarantee")


def test_bank_gateway_api(stack: LocalStack, stack_tokens: Tokens) -> None:
    fuzz(stack, stack_tokens, "bank_gateway")
