"""The policy as a clerk edits it: every rule under its Chinese requirement, the scoring,
the terms of each segment, the batch's risk lines and the claim rules — each a field of its
own, money in 元 (or 万), rates in %, days and months as numbers — and the policy's paths
(``rules.7.when``) said back by those labels (in errors and in the diff). Pure: it knows
the document, not HTTP."""

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shared.money import TypedAmountInvalid, parse_typed_amount

# How a field reads and is typed: an expression, a text, 元, %, a whole number, a decimal.
EXPR, TEXT, MONEY, RATE, INT, DEC = "expr", "text", "money", "rate", "int", "dec"

TERM_FIELDS: dict[str, tuple[str, str]] = {
    "coverage_ratio": ("担保比例", RATE),
    "annual_fee_rate": ("年担保费率", RATE),
    "fee_subsidy_share": ("担保费财政补贴比例", RATE),
    "interest_subsidy_share": ("贴息比例", RATE),
    "interest_subsidy_months": ("贴息月数", INT),
    "max_amount": ("单户上限", MONEY),
    "max_term_months": ("期限上限（月）", INT),
    "max_annual_rate": ("贷款年利率上限", RATE),
}
FIXED: list[tuple[str, str, str]] = [
    ("scoring.base", "基础分", INT),
    ("scoring.bands.eligible_from", "自动通过分数线", INT),
    ("scoring.bands.referred_from", "人工复核分数线", INT),
    ("batch_risk.warning_loss_rate", "批次损失率预警线", RATE),
    ("batch_risk.suspension_loss_rate", "批次损失率暂停线", RATE),
    ("batch_risk.compensation_ceiling", "批次代偿上限", RATE),
    ("claims.min_days_overdue", "逾期满多少天可申请代偿", INT),
    ("claims.filing_deadline_days", "违约后多少天内须申请代偿", INT),
    ("claims.interest_cap_days", "代偿利息最多计算天数", INT),
    ("claims.second_review_above", "代偿超过此金额须复核", MONEY),
]


@dataclass(frozen=True)
class Item:
    path: str
    label: str
    kind: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    items: list[Item]


def _get(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _shown(value: Any, kind: str) -> str:
    """The document's value as the field shows it (rates in %, money in 元)."""
    if value is None:
        return ""
    if kind == RATE:
        return f"{(Decimal(str(value)) * 100).normalize():f}"
    if kind == MONEY:
        return f"{Decimal(str(value)):f}"
    return str(value)


def _rule_label(rule: dict[str, Any]) -> str:
    """A rule's requirement without its placeholders: what the clerk recognises it by."""
    text = re.sub(r"（[^（）]*\{[^}]*\}[^（）]*）", "", rule.get("message_zh") or "")
    text = re.sub(r"\s*\{[^}]*\}\s*(元|个月|年)?", "", text)
    text = re.sub(r"\s*[=+]\s*(?=，|$)", "", text)
    return text.strip() or rule.get("code", "")


def sections(document: dict[str, Any]) -> list[Section]:
    """Every field the structured editor offers, grouped as the policy reads."""
    rules = [
        item
        for i, rule in enumerate(document.get("rules") or [])
        for item in (
            Item(f"rules.{i}.when", f"{_rule_label(rule)} · 条件", EXPR, rule.get("when", "")),
            Item(
                f"rules.{i}.failed_zh",
                f"{_rule_label(rule)} · 不符合时告诉企业",
                TEXT,
                rule.get("failed_zh") or "",
            ),
        )
    ]
    factors = [
        item
        for i, factor in enumerate(_get(document, "scoring.factors") or [])
        for item in (
            Item(
                f"scoring.factors.{i}.points",
                f"{factor.get('label_zh')} · 得分",
                EXPR,
                factor.get("points", ""),
            ),
            Item(
                f"scoring.factors.{i}.weight",
                f"{factor.get('label_zh')} · 权重",
                DEC,
                _shown(factor.get("weight", "1"), DEC),
            ),
        )
    ]
    found = [Section("准入规则", rules), Section("评分因素", factors)]
    found.append(Section("默认条款", _terms("terms.default", _get(document, "terms.default"))))
    for i, segment in enumerate(_get(document, "terms.segments") or []):
        base = f"terms.segments.{i}"
        items = [Item(f"{base}.when", "适用条件", EXPR, segment.get("when", ""))]
        items += _terms(f"{base}.overrides", segment.get("overrides") or {})
        found.append(Section(f"分组：{segment.get('label_zh') or segment.get('code')}", items))
    fixed = [Item(p, label, kind, _shown(_get(document, p), kind)) for p, label, kind in FIXED]
    found.append(Section("分数线、批次风险与代偿", [i for i in fixed if i.value != ""]))
    return found


def _terms(base: str, terms: dict[str, Any] | None) -> list[Item]:
    return [
        Item(f"{base}.{name}", label, kind, _shown(terms.get(name), kind))
        for name, (label, kind) in TERM_FIELDS.items()
        # An override left out (null) is the default's: not a field of the segment.
        if terms and terms.get(name) is not None
    ]


def apply(document: dict[str, Any], form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The document with the form's values put in; (it, path → what is wrong with a value)."""
    changed = copy.deepcopy(document)
    errors: dict[str, str] = {}
    for section in sections(document):
        for item in section.items:
            if item.path not in form:
                continue
            try:
                value = _parsed(form[item.path].strip(), item.kind)
            except ValueError as error:
                errors[item.path] = f"{section.title} · {item.label}：{error}"
                continue
            _put(changed, item.path, value)
    return changed, errors


def _parsed(text: str, kind: str) -> Any:
    if kind in (EXPR, TEXT):
        return text or None
    if text == "":
        raise ValueError("不能为空")
    try:
        if kind == MONEY:
            return f"{parse_typed_amount(text)}"
        if kind == RATE:
            percent = Decimal(text.removesuffix("%"))
            if not 0 <= percent <= 100:
                raise ValueError("应在 0–100% 之间")
            return f"{(percent / 100).quantize(Decimal('0.0001'))}"
        if kind == INT:
            if not re.fullmatch(r"\d{1,6}", text):
                raise ValueError("请填不小于 0 的整数")
            return int(text)
        return f"{Decimal(text)}"
    except TypedAmountInvalid as error:
        raise ValueError(error.message_zh) from None
    except (InvalidOperation, ArithmeticError):
        raise ValueError("请填数字") from None


def _put(document: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is None and last == "failed_zh":
        node.pop(last, None)  # no finding of its own: 未满足：<the requirement>
    else:
        node[last] = value


def label_of(document: dict[str, Any], path: str) -> str:
    """A policy path as the clerk reads it: ``rules.5.when`` → 「无影响…诉讼」的条件."""
    for section in sections(document):
        for item in section.items:
            if item.path == path:
                return f"{section.title} · {item.label}"
    parts = path.split(".")
    if len(parts) >= 2 and parts[0] == "rules" and parts[1].isdigit():
        rules = document.get("rules") or []
        index = int(parts[1])
        if index < len(rules):
            return f"准入规则 · {_rule_label(rules[index])}"
    return path


def rule_label(document: dict[str, Any], code: str) -> str:
    """A rule named by its code, as the clerk knows it (a code no longer in the policy: the
    code)."""
    rule = next((r for r in document.get("rules") or [] if r.get("code") == code), None)
    return _rule_label(rule) if rule else code
