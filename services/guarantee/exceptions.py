from shared.errors import Conflict, NotFound, ServiceUnavailable


class NoPolicyInForce(ServiceUnavailable):
    slug, title = "no-policy-in-force", "当前没有生效的担保政策 (no policy in force)"


class AssessmentNotFound(NotFound):
    slug, title = "assessment-not-found", "评估记录不存在 (assessment not found)"


class AssessmentConflict(Conflict):
    slug = "assessment-conflict"
    title = "该申请已按不同内容评估过 (application already assessed with different content)"
