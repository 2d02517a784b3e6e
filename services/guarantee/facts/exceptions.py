from shared.errors import Conflict, NotFound, ValidationFailed


class ListNotFound(NotFound):
    slug, title = "reference-list-not-found", "名单不存在 (reference list not found)"


class ListFileInvalid(ValidationFailed):
    """The file cannot be read, or rows are wrong: every bad row is listed; nothing saved."""

    slug, title = (
        "reference-list-invalid",
        "名单文件有误，未导入 (list file invalid, nothing imported)",
    )


class ListStateConflict(Conflict):
    slug, title = (
        "reference-list-state-conflict",
        "名单状态不允许此操作 (not allowed in this state)",
    )
