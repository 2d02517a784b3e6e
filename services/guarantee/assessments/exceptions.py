from shared.errors import Conflict, NotFound


class AssessmentNotFound(NotFound):
    slug, title = "assessment-not-found", "评估记录不存在 (assessment not found)"


class AssessmentConflict(Conflict):
    slug = "assessment-conflict"
    title = "该申请已按不同内容评估过 (application already assessed with different content)"


class AssessmentNotReplayable(Conflict):
    slug = "assessment-not-replayable"
    title = "该评估所用的政策版本为旧格式，无法重算 (made under a pre-expression policy format)"
