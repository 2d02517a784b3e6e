"""A policy document compiled: every expression checked and ready to evaluate.

:func:`compile_policy` checks every expression and every message and collects every
problem at once (:class:`DocumentInvalid`), so the bureau fixes a draft in one round.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.guarantee.policies.document import (
    EligibilityRule,
    PolicyDocument,
    ScoringFactor,
    Segment,
    TermOverrides,
    TermSet,
)
from services.guarantee.policies.expressions import (
    CompiledExpression,
    ExpressionRefused,
    compile_expression,
    placeholders,
    probe,
    runtime_rule,
)
from services.guarantee.policies.fields import (
    BOOLEAN,
    FIELDS,
    NUMBER,
    SEGMENT_FIELDS,
    probe_applications,
)
from shared.errors import FieldError


class DocumentInvalid(Exception):
    """The document cannot be used; ``errors`` says where and why, all at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the policy")
        self.errors = errors


@dataclass(frozen=True)
class CompiledRule:
    spec: EligibilityRule
    expression: CompiledExpression
    names_zh: list[str]
    names_en: list[str]
    names_failed: list[str]


@dataclass(frozen=True)
class CompiledFactor:
    spec: ScoringFactor
    expression: CompiledExpression


@dataclass(frozen=True)
class CompiledSegment:
    spec: Segment
    expression: CompiledExpression
    terms: TermSet


@dataclass(frozen=True)
class CompiledPolicy:
    document: PolicyDocument
    rules: list[CompiledRule]
    factors: list[CompiledFactor]
    segments: list[CompiledSegment]
    # Every rule, then every factor, as one array expression: one evaluation per
    # assessment instead of one per expression. On an error, each is run on its own to
    # find which one failed.
    combined: Any


def segment_terms(default: TermSet, overrides: TermOverrides) -> TermSet:
    merged = default.model_dump(mode="json") | overrides.model_dump(mode="json", exclude_none=True)
    return TermSet.model_validate(merged)


def limits(terms: TermSet, code: str) -> dict[str, Any]:
    """The segment's caps as the rules see them (one rule text serves every segment)."""
    return {
        "segment": code,
        "max_amount": terms.max_amount,
        "max_term_months": Decimal(terms.max_term_months),
    }


class _Compiler:
    """Compiles one document's expressions and messages, keeping every problem found."""

    def __init__(self, document: PolicyDocument) -> None:
        self.errors: list[FieldError] = []
        self._probes = probe_applications(limits(document.terms.default, "default"))

    def expression(self, path: str, text: str, result: Any, known: Any = FIELDS) -> Any:
        try:
            expression = compile_expression(text, result=result, known=known)
            probe(expression, self._probes, result)
        except ExpressionRefused as refused:
            e = refused.error
            self.errors.append(
                FieldError(
                    field=path,
                    message=e.message,
                    message_en=e.message_en,
                    code=e.code,
                    line=e.line,
                    column=e.column,
                )
            )
            return None
        return expression

    def message(self, path: str, template: str) -> list[str]:
        try:
            names = placeholders(template)
        except ExpressionRefused as refused:
            e = refused.error
            self.errors.append(
                FieldError(field=path, message=e.message, message_en=e.message_en, code=e.code)
            )
            return []
        for name in names:
            if name not in FIELDS:
                self.errors.append(
                    FieldError(
                        field=path,
                        message=f"消息中的占位符 {{{name}}} 不是已知字段",
                        message_en=f"placeholder {{{name}}} is not a known field",
                        code="unknown_name",
                    )
                )
        return names


def compile_policy(document: PolicyDocument) -> CompiledPolicy:
    """Compile every expression; :class:`DocumentInvalid` lists every problem found."""
    compiler = _Compiler(document)
    default = document.terms.default
    segments = [
        CompiledSegment(
            segment,
            compiler.expression(f"terms.segments.{i}.when", segment.when, BOOLEAN, SEGMENT_FIELDS),
            segment_terms(default, segment.overrides),
        )
        for i, segment in enumerate(document.terms.segments)
    ]
    rules = [
        CompiledRule(
            rule,
            compiler.expression(f"rules.{i}.when", rule.when, BOOLEAN),
            compiler.message(f"rules.{i}.message_zh", rule.message_zh),
            compiler.message(f"rules.{i}.message_en", rule.message_en),
            compiler.message(f"rules.{i}.failed_zh", rule.failed_zh) if rule.failed_zh else [],
        )
        for i, rule in enumerate(document.rules)
    ]
    factors = [
        CompiledFactor(
            factor, compiler.expression(f"scoring.factors.{i}.points", factor.points, NUMBER)
        )
        for i, factor in enumerate(document.scoring.factors)
    ]
    if compiler.errors:
        raise DocumentInvalid(compiler.errors)
    texts = [r.spec.when for r in rules] + [f.spec.points for f in factors]
    combined = runtime_rule("[" + ",\n".join(f"({t})" for t in texts) + "]")
    return CompiledPolicy(document, rules, factors, segments, combined)
