"""Policy documents as the bureau writes them: read from JSON or YAML, checked and compiled
(every problem with where and why), exported; compiled policies kept by content hash."""

import json
from collections import OrderedDict
from typing import Any

import yaml
from pydantic import ValidationError

from services.guarantee.models import POLICY_STATUS_ZH, PolicyStatus, PolicyVersion
from services.guarantee.policies.compiler import CompiledPolicy, DocumentInvalid, compile_policy
from services.guarantee.policies.document import PolicyDocument, content_hash
from services.guarantee.policies.exceptions import PolicyInvalid
from services.guarantee.policies.schemas import PolicyCheckResult
from shared.errors import FieldError, ValidationFailed, field_errors_from_pydantic

# Versions never change once submitted, so a compiled policy is kept by content hash — the
# stored versions assessments use, the most recently used first, at most COMPILED_KEPT of
# them: a document merely checked is never kept (15 checks took 50 MB when it was).
COMPILED_KEPT = 32
_compiled: OrderedDict[str, CompiledPolicy] = OrderedDict()


def compiled_policy(version: PolicyVersion) -> CompiledPolicy:
    policy = _compiled.get(version.content_hash)
    if policy is None:
        policy = compile_policy(PolicyDocument.model_validate(version.document))
        _compiled[version.content_hash] = policy
        while len(_compiled) > COMPILED_KEPT:
            _compiled.popitem(last=False)
    else:
        _compiled.move_to_end(version.content_hash)
    return policy


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without anchors and aliases: a policy has no use for them, and 27,000 aliases
    of aliases took the service 4.5 s to expand (the "billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML 别名（*alias）不可用", event.start_mark
            )
        return super().compose_node(parent, index)


def read_document(document: dict[str, Any] | None, yaml_text: str | None) -> dict[str, Any]:
    """The document given as JSON or as YAML text (exactly one of them)."""
    if (document is None) == (yaml_text is None):
        raise ValidationFailed(
            "请提供 document（JSON）或 yaml（YAML 文本）之一",
            errors=[
                FieldError(
                    field="document",
                    message="document 与 yaml 必须且只能提供一个",
                    message_en="give exactly one of document and yaml",
                    code="one_of_required",
                )
            ],
        )
    if document is not None:
        return document
    assert yaml_text is not None
    try:
        loaded = yaml.load(yaml_text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = getattr(error, "problem", None) or str(error)
        raise PolicyInvalid(
            "YAML 无法解析",
            errors=[
                FieldError(
                    field="yaml",
                    message=f"YAML 语法错误（第 {line} 行第 {column} 列）：{problem}",
                    message_en=f"YAML syntax error at line {line}, column {column}: {problem}",
                    code="yaml_syntax",
                    line=line,
                    column=column,
                )
            ],
        ) from None
    if not isinstance(loaded, dict):
        raise PolicyInvalid(
            "YAML 顶层应为映射",
            errors=[
                FieldError(
                    field="yaml",
                    message="YAML 顶层应为键值映射（name、rules、scoring…）",
                    message_en="the YAML must be a mapping at the top (name, rules, scoring…)",
                    code="yaml_not_mapping",
                )
            ],
        )
    return loaded


def check_document(raw: dict[str, Any]) -> tuple[dict[str, Any], CompiledPolicy]:
    """Validate and compile; the canonical document and its compiled form, or PolicyInvalid."""
    try:
        document = PolicyDocument.model_validate(raw)
    except ValidationError as error:
        errors = field_errors_from_pydantic(error.errors(include_url=False))  # type: ignore[arg-type]
        raise PolicyInvalid(f"政策内容有 {len(errors)} 处错误", errors=errors) from None
    try:
        compiled = compile_policy(document)
    except DocumentInvalid as error:
        raise PolicyInvalid(
            f"政策中有 {len(error.errors)} 个表达式或消息无法使用", errors=error.errors
        ) from None
    return document.model_dump(mode="json"), compiled


def check(document: dict[str, Any] | None, yaml_text: str | None) -> PolicyCheckResult:
    raw = read_document(document, yaml_text)
    try:
        canonical, _ = check_document(raw)
    except PolicyInvalid as error:
        return PolicyCheckResult(valid=False, content_hash="", errors=error.errors or [])
    return PolicyCheckResult(valid=True, content_hash=content_hash(canonical), errors=[])


def export(version: PolicyVersion, fmt: str) -> str:
    if fmt == "yaml":
        header = (
            f"# {version.name} v{version.version}"
            f" ({POLICY_STATUS_ZH[PolicyStatus(version.status)]})"
            f" sha256:{version.content_hash}\n"
        )
        return header + yaml.safe_dump(
            version.document, allow_unicode=True, sort_keys=False, width=100
        )
    return json.dumps(version.document, ensure_ascii=False, indent=2)
