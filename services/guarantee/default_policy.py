"""The shipped policy "青浦区批次贷", kept as the YAML the bureau would import or export."""

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_POLICY_FILE = Path(__file__).parent / "policies" / "qingpu-picidai.yaml"
DEFAULT_POLICY_NAME = "青浦区批次贷"


@cache
def _load() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_POLICY_FILE.read_text(encoding="utf-8"))


def default_policy() -> dict[str, Any]:
    """A fresh copy of the shipped document (callers may edit it)."""
    return copy.deepcopy(_load())
