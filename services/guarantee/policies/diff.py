"""What changed between two policy documents, in the document's own terms: entries of a
list that have a ``code`` (rules, factors, segments) are matched by code, not position."""

from typing import Any

from services.guarantee.policies.schemas import PolicyChange


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects with unique ``code`` as a mapping by code; otherwise None."""
    if not all(isinstance(i, dict) and "code" in i for i in items):
        return None
    keyed = {i["code"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def diff_documents(before: Any, after: Any, path: str = "") -> list[PolicyChange]:
    """What changed from ``before`` to ``after``; list entries with a ``code`` matched by code."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in [*before, *(k for k in after if k not in before)]:
            child = f"{path}.{key}" if path else key
            if key not in after:
                changes.append(PolicyChange(path=child, change="removed", before=before[key]))
            elif key not in before:
                changes.append(PolicyChange(path=child, change="added", after=after[key]))
            else:
                changes += diff_documents(before[key], after[key], child)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(before), _keyed(after)
        if old is not None and new is not None:
            changes = []
            for code in [*old, *(c for c in new if c not in old)]:
                child = f"{path}[{code}]"
                if code not in new:
                    changes.append(PolicyChange(path=child, change="removed", before=old[code]))
                elif code not in old:
                    changes.append(PolicyChange(path=child, change="added", after=new[code]))
                else:
                    changes += diff_documents(old[code], new[code], child)
            if list(old) != [c for c in new if c in old] and not changes:
                changes.append(
                    PolicyChange(path=path, change="reordered", before=list(old), after=list(new))
                )
            return changes
    if before != after:
        return [PolicyChange(path=path, change="changed", before=before, after=after)]
    return []
