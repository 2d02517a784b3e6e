"""Policy expressions: the names a rule may use, and the checks an expression passes on save.

Expressions are `rule-engine <https://zerosteiner.github.io/rule-engine/>`_ text
(``amount <= max_amount and not bad_credit_2y``). We chose it over CEL and JsonLogic
(docs/decisions.md, ``bench/policy_engines.py``): numbers are exact ``Decimal`` so money
stays in yuan, and a typed context rejects unknown names (with a suggestion) and
mismatched types when the rule is compiled, not when an SME is assessed.

What rule-engine allows but a policy must not, this module refuses: regular expressions
(a crafted pattern runs for seconds), comprehensions, built-in functions, powers and
shifts (unbounded), and a division whose divisor is not a non-zero constant — ratios come
as derived fields (``amount_to_revenue``, ``debt_ratio``, ``output_per_mu``) that are
``null`` where they would divide by zero. Each expression is then run over a set of probe
applications (every nullable field null in turn, zeros, extremes) so an expression that
would fail on a real application (``output_per_mu >= 1000`` with no land area) is refused
with the field that made it fail.
"""

import difflib
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import rule_engine
import rule_engine.ast as ast
from rule_engine.types import DataType

from shared.clock import SHANGHAI
from shared.contracts.assessment import AssessmentRequest, EnterpriseFlags
from shared.sme import SmeSize, is_industrial

BOOLEAN, NUMBER, STRING = DataType.BOOLEAN, DataType.FLOAT, DataType.STRING

_TYPE_NAMES = {
    "BOOLEAN": ("布尔值", "boolean"),
    "FLOAT": ("数值", "number"),
    "STRING": ("文本", "text"),
    "NULL": ("空值", "null"),
    "ARRAY": ("列表", "array"),
}


@dataclass(frozen=True)
class FieldSpec:
    type: Any
    label_zh: str
    nullable: bool = False


# The application as policy expressions see it. Money in yuan (Decimal), rates as Decimal.
# Segment-dependent limits (max_amount, max_term_months) are filled in after the segment
# is chosen, so one rule text serves every segment.
FIELDS: dict[str, FieldSpec] = {
    "registered_district": FieldSpec(STRING, "注册地所在区"),
    "industry_code": FieldSpec(STRING, "国民经济行业代码（GB/T 4754-2017）", nullable=True),
    "industry_section": FieldSpec(STRING, "行业门类（如 C）", nullable=True),
    "industry_division": FieldSpec(STRING, "行业大类（如 C39）", nullable=True),
    "industry_group": FieldSpec(STRING, "行业中类（如 K701）", nullable=True),
    "sme_sector": FieldSpec(STRING, "300号划型行业"),
    "sme_size": FieldSpec(STRING, "企业规模（medium / small / micro / large）"),
    "sme_size_zh": FieldSpec(STRING, "企业规模（中型 / 小型 / 微型 / 大型）"),
    "industrial": FieldSpec(BOOLEAN, "是否工业企业"),
    "employees": FieldSpec(NUMBER, "从业人员（人）"),
    "annual_revenue": FieldSpec(NUMBER, "营业收入（元）"),
    "total_assets": FieldSpec(NUMBER, "资产总额（元）"),
    "total_liabilities": FieldSpec(NUMBER, "负债总额（元）", nullable=True),
    "land_area_mu": FieldSpec(NUMBER, "用地面积（亩）", nullable=True),
    "years_operating": FieldSpec(NUMBER, "经营年限（整年）"),
    "amount": FieldSpec(NUMBER, "申请金额（元）"),
    "term_months": FieldSpec(NUMBER, "期限（月）"),
    "purpose": FieldSpec(STRING, "贷款用途"),
    "preferred_bank": FieldSpec(STRING, "意向合作银行", nullable=True),
    "amount_to_revenue": FieldSpec(NUMBER, "申请金额 ÷ 营业收入（收入为 0 时为空）", nullable=True),
    "debt_ratio": FieldSpec(NUMBER, "资产负债率（未填负债或资产为 0 时为空）", nullable=True),
    "output_per_mu": FieldSpec(NUMBER, "亩均产值（万元/亩，未填用地时为空）", nullable=True),
    "specialized": FieldSpec(BOOLEAN, "专精特新或小巨人"),
    "segment": FieldSpec(STRING, "适用的条款分组代码（default 为默认）"),
    "max_amount": FieldSpec(NUMBER, "本分组单户上限（元）"),
    "max_term_months": FieldSpec(NUMBER, "本分组期限上限（月）"),
    **{
        name: FieldSpec(BOOLEAN, field.description or name)
        for name, field in EnterpriseFlags.model_fields.items()
    },
}

# Names known before the segment is chosen: a segment condition may not use the limits
# the segment itself decides.
SEGMENT_FIELDS = {
    name: spec
    for name, spec in FIELDS.items()
    if name not in {"segment", "max_amount", "max_term_months"}
}


def years_between(start: date, end: date) -> int:
    """Whole years from ``start`` to ``end`` (a firm founded 2020-03-01 is 1 on 2021-03-01)."""
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return max(years, 0)


_RATIO = Decimal("0.0001")
_WAN = Decimal(10000)


def application_fields(request: AssessmentRequest) -> dict[str, Any]:
    """Every field of :data:`FIELDS` except the segment's limits, from one request."""
    enterprise, loan = request.enterprise, request.loan
    flags = enterprise.flags
    code = enterprise.industry_code
    revenue, assets = enterprise.annual_revenue, enterprise.total_assets
    liabilities, land = enterprise.total_liabilities, enterprise.land_area_mu
    fields: dict[str, Any] = {
        "registered_district": enterprise.registered_district,
        "industry_code": code,
        "industry_section": code[:1] if code else None,
        "industry_division": code[:3] if code and len(code) >= 3 else None,
        "industry_group": code[:4] if code and len(code) >= 4 else None,
        "sme_sector": enterprise.sme_sector,
        "sme_size": enterprise.sme_size.value,
        "sme_size_zh": enterprise.sme_size.label_zh,
        "industrial": is_industrial(enterprise.sme_sector),
        "employees": Decimal(enterprise.employees),
        "annual_revenue": revenue,
        "total_assets": assets,
        "total_liabilities": liabilities,
        "land_area_mu": land,
        "years_operating": Decimal(years_between(enterprise.established_on, request.as_of)),
        "amount": loan.amount,
        "term_months": Decimal(loan.term_months),
        "purpose": loan.purpose,
        "preferred_bank": loan.preferred_bank,
        "amount_to_revenue": (loan.amount / revenue).quantize(_RATIO) if revenue > 0 else None,
        "debt_ratio": (
            (liabilities / assets).quantize(_RATIO)
            if liabilities is not None and assets > 0
            else None
        ),
        "output_per_mu": (revenue / _WAN / land).quantize(_RATIO) if land else None,
        "specialized": flags.specialized_new or flags.little_giant,
    }
    fields.update(flags.model_dump())
    return fields


@dataclass(frozen=True)
class ExpressionError:
    """One reason an expression was refused."""

    code: str
    message: str
    message_en: str
    line: int | None = None
    column: int | None = None


class ExpressionRefused(Exception):
    def __init__(self, error: ExpressionError) -> None:
        super().__init__(error.message_en)
        self.error = error


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _children(node: Any) -> Iterator[Any]:
    for value in vars(node).values():
        if isinstance(value, ast.ExpressionBase):
            yield value
        elif isinstance(value, tuple | list):
            yield from (v for v in value if isinstance(v, ast.ExpressionBase))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in _children(node):
        yield from _walk(child)


def _refuse(code: str, zh: str, en: str) -> ExpressionRefused:
    return ExpressionRefused(ExpressionError(code, zh, en))


def _check_safe(node: Any) -> None:
    for n in _walk(node):
        if isinstance(n, ast.FuzzyComparisonExpression):
            raise _refuse(
                "regex_forbidden",
                "不允许使用正则表达式运算符（=~、!~）：请改用 ==、in 或派生字段",
                "regular-expression operators (=~, !~) are not allowed; use ==, in or a field",
            )
        if isinstance(n, ast.ComprehensionExpression):
            raise _refuse(
                "unbounded_forbidden",
                "不允许使用列表推导式",
                "comprehensions are not allowed",
            )
        if isinstance(n, ast.FunctionCallExpression) or (
            isinstance(n, ast.SymbolExpression) and n.scope is not None
        ):
            raise _refuse(
                "function_forbidden",
                "不允许调用内置函数（$…）",
                "built-in functions ($…) are not allowed",
            )
        if isinstance(n, ast.BitwiseShiftExpression | ast.BitwiseExpression) or (
            isinstance(n, ast.ArithmeticExpression) and n.type == "pow"
        ):
            raise _refuse(
                "unbounded_forbidden",
                "不允许使用乘方或位运算（结果可能无界）",
                "powers and bitwise operators are not allowed (unbounded)",
            )
        if isinstance(n, ast.ArithmeticExpression) and n.type in {"tdiv", "fdiv", "mod"}:
            divisor = n.right
            if not (isinstance(divisor, ast.FloatExpression) and divisor.value != 0):
                raise _refuse(
                    "division_by_zero",
                    "除数必须是非零常数：该除法在除数为 0 时会出错；比率请用派生字段"
                    "（amount_to_revenue、debt_ratio、output_per_mu）",
                    "a divisor must be a non-zero constant; use the derived ratio fields",
                )


def _type_name(data_type: Any) -> tuple[str, str]:
    return _TYPE_NAMES.get(getattr(data_type, "name", ""), (str(data_type), str(data_type)))


def _suggest(name: str, known: Mapping[str, FieldSpec], suggestion: str | None) -> str | None:
    if suggestion:
        return suggestion
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


@dataclass(frozen=True)
class CompiledExpression:
    text: str
    rule: Any  # rule_engine.Rule, for evaluation
    symbols: frozenset[str]

    def evaluate(self, fields: Mapping[str, Any]) -> Any:
        return self.rule.evaluate(fields)


class _FieldsContext(rule_engine.Context):
    """Looks symbols up in the fields dict directly.

    Types are checked once, when an expression is saved, so evaluation needs neither a type
    resolver (rule-engine otherwise re-checks every symbol's value on every evaluation)
    nor the general resolver (built-ins and comprehension scopes are refused on save).
    Together these were most of an assessment's time (cProfile; bench/README.md).
    """

    def resolve(self, thing: Any, name: str, scope: str | None = None) -> Any:
        try:
            return thing[name]
        except KeyError:
            raise rule_engine.SymbolResolutionError(name, thing=thing) from None


_UNTYPED = _FieldsContext(default_timezone=SHANGHAI)


def runtime_rule(text: str) -> Any:
    return rule_engine.Rule(text, context=_UNTYPED)


_contexts: dict[int, Any] = {}


def _context(known: Mapping[str, FieldSpec]) -> Any:
    key = id(known)
    if key not in _contexts:
        types = {name: spec.type for name, spec in known.items()}
        _contexts[key] = rule_engine.Context(
            type_resolver=rule_engine.type_resolver_from_dict(types),
            default_timezone=SHANGHAI,
        )
    return _contexts[key]


def compile_expression(
    text: str, *, result: Any, known: Mapping[str, FieldSpec] = FIELDS
) -> CompiledExpression:
    """Compile ``text``; :class:`ExpressionRefused` says where and why it cannot be used."""
    if not text.strip():
        raise _refuse("empty_expression", "表达式不能为空", "the expression is empty")
    try:
        rule = rule_engine.Rule(text, context=_context(known))
    except rule_engine.RuleSyntaxError as error:
        token = error.token
        offset = token.lexpos if token is not None else len(text)
        line, column = _position(text, offset)
        near = f"“{token.value}”附近" if token is not None else "表达式结尾"
        near_en = f"near '{token.value}'" if token is not None else "at the end"
        raise ExpressionRefused(
            ExpressionError(
                "syntax_error",
                f"语法错误：第 {line} 行第 {column} 列，{near}",
                f"syntax error at line {line}, column {column}, {near_en}",
                line,
                column,
            )
        ) from None
    except rule_engine.SymbolResolutionError as error:
        name = error.symbol_name
        suggestion = _suggest(name, known, getattr(error, "suggestion", None))
        hint_zh = f"，是否想用“{suggestion}”？" if suggestion else ""
        hint_en = f"; did you mean '{suggestion}'?" if suggestion else ""
        offset = text.find(name)
        line, column = _position(text, offset) if offset >= 0 else (None, None)
        raise ExpressionRefused(
            ExpressionError(
                "unknown_name",
                f"未知字段“{name}”{hint_zh}",
                f"unknown name '{name}'{hint_en}",
                line,
                column,
            )
        ) from None
    except rule_engine.AttributeResolutionError as error:
        raise _refuse(
            "unknown_attribute",
            f"未知属性“{error.attribute_name}”",
            f"unknown attribute '{error.attribute_name}'",
        ) from None
    except rule_engine.EvaluationError as error:
        raise _refuse(
            "type_mismatch",
            f"类型不匹配：{_type_mismatch_zh(error)}（例如把金额与文本比较）",
            f"type mismatch: {error.message} (e.g. comparing money with text)",
        ) from None
    except ArithmeticError:
        raise _refuse(
            "division_by_zero", "表达式中存在除以 0", "the expression divides by zero"
        ) from None
    except rule_engine.EngineError as error:
        raise _refuse("invalid_expression", f"表达式无效：{error}", f"invalid: {error}") from None
    expression = rule.statement.expression
    _check_safe(expression)
    actual = expression.result_type
    if actual is not DataType.UNDEFINED and not (
        actual is result or getattr(actual, "name", None) == result.name
    ):
        want_zh, want_en = _type_name(result)
        got_zh, got_en = _type_name(actual)
        raise _refuse(
            "wrong_result_type",
            f"表达式结果应为{want_zh}，实际为{got_zh}",
            f"the expression must yield a {want_en}, not a {got_en}",
        )
    symbols = frozenset(n.name for n in _walk(expression) if isinstance(n, ast.SymbolExpression))
    return CompiledExpression(text=text, rule=runtime_rule(text), symbols=symbols)


def _type_mismatch_zh(error: Any) -> str:
    message = str(getattr(error, "message", error))
    return "运算两侧的数据类型不一致" if "mismatch" in message else message


def placeholders(template: str) -> list[str]:
    """Names in ``{…}`` of a message template; anything but a bare name is refused."""
    names = []
    for _, field_name, format_spec, conversion in string.Formatter().parse(template):
        if field_name is None:
            continue
        if not field_name.isidentifier() or format_spec or conversion:
            raise _refuse(
                "bad_placeholder",
                f"消息占位符只能是字段名：{{{field_name}}}",
                f"a placeholder is a bare field name: {{{field_name}}}",
            )
        names.append(field_name)
    return names


def render(template: str, names: list[str], fields: Mapping[str, Any]) -> str:
    """``template`` with its ``names`` (from :func:`placeholders`) filled from ``fields``."""
    if not names:
        return template
    return template.format_map({name: _shown(fields.get(name)) for name in names})


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral_value() else str(value)
    return str(value)


def probe_applications(limits: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Applications every expression must evaluate on without error."""
    base: dict[str, Any] = {
        "registered_district": "青浦区",
        "industry_code": "C391",
        "industry_section": "C",
        "industry_division": "C39",
        "industry_group": "C391",
        "sme_sector": "industry",
        "sme_size": SmeSize.SMALL.value,
        "sme_size_zh": SmeSize.SMALL.label_zh,
        "industrial": True,
        "employees": Decimal(80),
        "annual_revenue": Decimal("12000000.00"),
        "total_assets": Decimal("9000000.00"),
        "total_liabilities": Decimal("4000000.00"),
        "land_area_mu": Decimal("20"),
        "years_operating": Decimal(5),
        "amount": Decimal("2000000.00"),
        "term_months": Decimal(12),
        "purpose": "设备购置",
        "preferred_bank": "srcb",
        "amount_to_revenue": Decimal("0.1667"),
        "debt_ratio": Decimal("0.4444"),
        "output_per_mu": Decimal("60.0000"),
        "specialized": False,
        **{name: False for name in EnterpriseFlags.model_fields},
        **limits,
    }
    nullable = [name for name, spec in FIELDS.items() if spec.nullable]
    probes = [base, {**base, **dict.fromkeys(nullable)}]
    probes += [{**base, name: None} for name in nullable]
    probes.append(
        {
            **base,
            "employees": Decimal(0),
            "annual_revenue": Decimal(0),
            "total_assets": Decimal(0),
            "total_liabilities": Decimal(0),
            "land_area_mu": Decimal(0),
            "years_operating": Decimal(0),
            "amount": Decimal("0.01"),
            "term_months": Decimal(1),
            "amount_to_revenue": None,
            "debt_ratio": None,
            "output_per_mu": None,
            "specialized": True,
            **{name: True for name in EnterpriseFlags.model_fields},
        }
    )
    return probes


_PYTHON_TYPES = {"BOOLEAN": bool, "FLOAT": Decimal, "STRING": str}


def probe(expression: CompiledExpression, probes: list[dict[str, Any]], result: Any) -> None:
    """Run ``expression`` over the probe applications; refuse it if any evaluation fails or
    yields something else than ``result`` (a ternary may mix types: ``x ? 15 : 'a'``)."""
    expected = _PYTHON_TYPES[result.name]
    for fields in probes:
        try:
            value = expression.evaluate(fields)
        except (rule_engine.EngineError, ArithmeticError, TypeError) as error:
            empty = sorted(n for n in expression.symbols if fields.get(n) is None)
            if empty:
                raise _refuse(
                    "null_unsafe",
                    f"字段 {'、'.join(empty)} 可能为空，表达式在其为空时无法计算："
                    f"请先判断（如 {empty[0]} != null and …）",
                    f"{', '.join(empty)} may be null and the expression then fails: "
                    f"test it first ({empty[0]} != null and …)",
                ) from None
            raise _refuse(
                "evaluation_error",
                f"表达式在示例申请上计算出错：{error}",
                f"the expression fails on a sample application: {error}",
            ) from None
        if not isinstance(value, expected):
            want_zh, want_en = _type_name(result)
            raise _refuse(
                "wrong_result_type",
                f"表达式结果应为{want_zh}，在示例申请上得到 {value!r}",
                f"the expression must yield a {want_en}; a sample application gave {value!r}",
            )
