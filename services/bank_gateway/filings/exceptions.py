from shared.errors import Conflict, ServiceUnavailable, ValidationFailed


class FilingIneligible(ValidationFailed):
    """The fund's assessment of the filed application: not eligible (or referred to the
    finance bureau): no guarantee; the reasons are its findings."""

    slug = "filing-ineligible"
    title = "该笔贷款不符合批次贷担保条件 (the filed loan is not eligible)"


class FilingNotAccepted(Conflict):
    slug = "filing-not-accepted"
    title = "该批次不能受理备案 (the batch cannot take this filing)"


class FilingPending(ServiceUnavailable):
    slug = "filing-pending"
    title = "评估尚未完成，请稍后以同一 reference 重试 (assessment pending: retry later)"
