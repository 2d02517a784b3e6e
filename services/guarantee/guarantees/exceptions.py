from shared.errors import Conflict, NotFound


class GuaranteeNotFound(NotFound):
    slug, title = "guarantee-not-found", "担保不存在 (guarantee not found)"


class GuaranteeConflict(Conflict):
    slug, title = "guarantee-conflict", "该贷款已按不同内容备案 (loan filed with other facts)"


class NotAssessedEligible(Conflict):
    slug, title = "not-assessed-eligible", "该申请没有可担保的评估 (no guaranteeable assessment)"
