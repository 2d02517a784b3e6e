"""What a policy expression may and may not be: each refusal with where and why."""

import copy
from typing import Any

import pytest

from services.guarantee.policies.compiler import DocumentInvalid as PolicyInvalid
from services.guarantee.policies.compiler import compile_policy
from services.guarantee.policies.default_policy import default_policy
from services.guarantee.policies.document import PolicyDocument
from services.guarantee.policies.expressions import ExpressionRefused, compile_expression, probe
from services.guarantee.policies.fields import BOOLEAN, NUMBER, probe_applications

LIMITS: dict[str, Any] = {}


def refusal(text: str, result: Any = BOOLEAN) -> Any:
    with pytest.raises(ExpressionRefused) as caught:
        expression = compile_expression(text, result=result)
        probe(expression, probe_applications(LIMITS), result)
    return caught.value.error


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("amount > ", "syntax_error"),
        ("amout > 5", "unknown_name"),
        ("amount > '5'", "type_mismatch"),
        ("registered_district + 1 > 2", "type_mismatch"),
        ("purpose =~ '(a+)+$'", "regex_forbidden"),
        ("purpose !~ 'x'", "regex_forbidden"),
        ("[x for x in [1, 2]] == [1, 2]", "unbounded_forbidden"),
        ("amount ** 100000 > 1", "unbounded_forbidden"),
        ("(employees << 100000) > 1", "unbounded_forbidden"),
        ("$abs(amount) > 1", "function_forbidden"),
        ("amount / annual_revenue > 1", "division_by_zero"),
        ("amount / 0 > 1", "division_by_zero"),
        ("amount % employees == 0", "division_by_zero"),
        ("output_per_mu >= 1000", "null_unsafe"),
        ("amount", "wrong_result_type"),
        ("   ", "empty_expression"),
    ],
)
def test_refused_expressions(text: str, code: str) -> None:
    assert refusal(text).code == code


def test_syntax_error_has_a_position() -> None:
    error = refusal("amount > 5 and\n  (term_months > 12 term_months)")
    assert error.code == "syntax_error"
    assert (error.line, error.column) == (2, 21)
    assert "第 2 行第 21 列" in error.message


def test_unknown_name_comes_with_a_suggestion() -> None:
    error = refusal("anual_revenue > 100")
    assert error.code == "unknown_name"
    assert "annual_revenue" in error.message
    assert "did you mean 'annual_revenue'" in error.message_en
    assert (error.line, error.column) == (1, 1)


def test_null_unsafe_names_the_field() -> None:
    error = refusal("debt_ratio > 0.8")
    assert "debt_ratio" in error.message
    assert compile_expression("debt_ratio != null and debt_ratio > 0.8", result=BOOLEAN)


def test_points_must_be_numbers_and_rules_booleans() -> None:
    assert refusal("high_tech", result=NUMBER).code == "wrong_result_type"
    assert refusal("high_tech ? 5 : 0", result=BOOLEAN).code == "wrong_result_type"
    assert compile_expression("high_tech ? 5 : 0", result=NUMBER)
    assert refusal("high_tech ? 15 : 'x'", result=NUMBER).code == "wrong_result_type"


def test_division_by_a_constant_is_exact() -> None:
    expression = compile_expression("amount / 3 > 666666.66", result=BOOLEAN)
    fields = probe_applications(LIMITS)[0]
    assert expression.evaluate({**fields, "amount": fields["amount"]}) is True


def test_a_policy_reports_every_problem_at_once() -> None:
    document = copy.deepcopy(default_policy())
    document["rules"][0]["when"] = "registerd_district == '青浦区'"
    document["rules"][7]["when"] = "amount <= '10000000'"
    document["rules"][7]["message_zh"] = "上限 {max_amout}"
    document["scoring"]["factors"][0]["points"] = "little_giant ? 15"
    document["terms"]["segments"][0]["when"] = "max_amount > 1"  # decided by the segment itself
    with pytest.raises(PolicyInvalid) as caught:
        compile_policy(PolicyDocument.model_validate(document))
    found = {(e.field, e.code) for e in caught.value.errors}
    assert found == {
        ("rules.0.when", "unknown_name"),
        ("rules.7.when", "type_mismatch"),
        ("rules.7.message_zh", "unknown_name"),
        ("scoring.factors.0.points", "syntax_error"),
        ("terms.segments.0.when", "unknown_name"),
    }


def test_shipped_policy_compiles() -> None:
    policy = compile_policy(PolicyDocument.model_validate(default_policy()))
    assert [r.spec.code for r in policy.rules][:2] == ["registered_in_district", "sme_class"]
    assert len(policy.factors) == 9
