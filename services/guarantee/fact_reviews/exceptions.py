from shared.errors import Conflict, NotFound, ValidationFailed


class ReviewNotFound(NotFound):
    slug, title = "fact-review-not-found", "复核申请不存在 (review not found)"


class ReviewStateConflict(Conflict):
    slug, title = (
        "fact-review-state-conflict",
        "复核申请已处理 (review already decided)",
    )


class ReviewInvalid(ValidationFailed):
    slug, title = "fact-review-invalid", "复核申请有误 (review invalid)"
