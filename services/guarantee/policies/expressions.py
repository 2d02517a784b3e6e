"""Policy expressions: the checks an expression passes when a policy is saved.

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
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import rule_engine
import rule_engine.ast as ast
from rule_engine.types import DataType

from services.guarantee.policies.fields import FIELDS, MONEY_FIELDS, FieldSpec
from shared.clock import SHANGHAI
from shared.money import yuan

_TYPE_NAMES = {
    "BOOLEAN": ("布尔值", "boolean"),
    "FLOAT": ("数值", "number"),
    "STRING": ("文本", "text"),
    "NULL": ("空值", "null"),
    "ARRAY": ("列表", "array"),
}


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


def _syntax_error(text: str, error: Any) -> ExpressionRefused:
    token = error.token
    offset = token.lexpos if token is not None else len(text)
    line, column = _position(text, offset)
    near = f"“{token.value}”附近" if token is not None else "表达式结尾"
    near_en = f"near '{token.value}'" if token is not None else "at the end"
    return ExpressionRefused(
        ExpressionError(
            "syntax_error",
            f"语法错误：第 {line} 行第 {column} 列，{near}",
            f"syntax error at line {line}, column {column}, {near_en}",
            line,
            column,
        )
    )


def _unknown_name(text: str, known: Mapping[str, FieldSpec], error: Any) -> ExpressionRefused:
    name = error.symbol_name
    suggestion = _suggest(name, known, getattr(error, "suggestion", None))
    hint_zh = f"，是否想用“{suggestion}”？" if suggestion else ""
    hint_en = f"; did you mean '{suggestion}'?" if suggestion else ""
    offset = text.find(name)
    line, column = _position(text, offset) if offset >= 0 else (None, None)
    return ExpressionRefused(
        ExpressionError(
            "unknown_name",
            f"未知字段“{name}”{hint_zh}",
            f"unknown name '{name}'{hint_en}",
            line,
            column,
        )
    )


def _parse(text: str, known: Mapping[str, FieldSpec]) -> Any:
    """rule-engine's parse and type check, its errors said in Chinese and English."""
    try:
        return rule_engine.Rule(text, context=_context(known))
    except rule_engine.RuleSyntaxError as error:
        raise _syntax_error(text, error) from None
    except rule_engine.SymbolResolutionError as error:
        raise _unknown_name(text, known, error) from None
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


# How deep an expression may nest: the parser and every walk over its tree recurse, so a
# document of 500 nested ``not`` would otherwise exhaust the stack. No real rule comes near.
MAX_NESTING = 24


def nesting(text: str) -> int:
    """An upper bound of the parse tree's depth, read from the text alone: the deepest
    bracket, plus the unary ``not`` and ``-`` chained before an operand."""
    depth = deepest = chain = 0
    quote: str | None = None
    for token in _TOKEN.findall(text):
        if quote is not None:
            quote = None if token == quote else quote
        elif token in ("'", '"'):
            quote = token
        elif token in ("(", "["):
            depth += 1
        elif token in (")", "]"):
            depth -= 1
        elif token in ("not", "-"):
            chain += 1
            deepest = max(deepest, depth + chain)
            continue
        chain = 0 if token not in ("(", "[") else chain
        deepest = max(deepest, depth + chain)
    return deepest


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[()\[\]'\"-]|\S")


def compile_expression(
    text: str, *, result: Any, known: Mapping[str, FieldSpec] = FIELDS
) -> CompiledExpression:
    """Compile ``text``; :class:`ExpressionRefused` says where and why it cannot be used."""
    if not text.strip():
        raise _refuse("empty_expression", "表达式不能为空", "the expression is empty")
    if nesting(text) > MAX_NESTING:
        raise _refuse(
            "too_deep",
            f"表达式嵌套过深（括号与 not 合计最多 {MAX_NESTING} 层），请拆分为多条规则",
            f"the expression nests too deeply (at most {MAX_NESTING} levels): split it",
        )
    try:
        expression = _parse(text, known).statement.expression
        _check_safe(expression)
    except RecursionError:  # a shape the bound above did not foresee: still refused
        raise _refuse(
            "too_deep", "表达式嵌套过深，请拆分为多条规则", "the expression nests too deeply"
        ) from None
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


def render_finding(template: str, names: list[str], fields: Mapping[str, Any]) -> str:
    """Like :func:`render`, for the firm to read: money fields as ¥1,234.50."""
    shown = {
        name: yuan(fields.get(name)) if name in MONEY_FIELDS else _shown(fields.get(name))
        for name in names
    }
    return template.format_map(shown) if names else template


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral_value() else str(value)
    return str(value)


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
