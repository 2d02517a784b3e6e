from shared.errors import Conflict, NotFound, ValidationFailed


class GuaranteeNotFound(NotFound):
    slug, title = "guarantee-not-found", "担保不存在 (guarantee not found)"


class GuaranteeConflict(Conflict):
    slug, title = "guarantee-conflict", "该贷款已按不同内容备案 (loan filed with other facts)"


class NotAssessedEligible(Conflict):
    slug, title = "not-assessed-eligible", "该申请没有可担保的评估 (no guaranteeable assessment)"


class GuaranteeReleaseConflict(Conflict):
    slug = "guarantee-release-conflict"
    title = "该担保已按不同内容解保 (guarantee already released otherwise)"


class ReleaseInvalid(ValidationFailed):
    slug, title = "release-invalid", "解保信息与担保不符 (release does not fit the guarantee)"


class OutstandingInvalid(ValidationFailed):
    slug, title = (
        "outstanding-invalid",
        "剩余本金与担保不符 (outstanding does not fit the guarantee)",
    )


class ExposureCapExceeded(Conflict):
    slug = "exposure-cap-exceeded"
    title = "超过单户在保余额上限 (over the per-firm cap on guaranteed outstanding)"


class FilingRefused(ValidationFailed):
    """备案 refused: the loan does not fit its batch or the terms it was assessed for."""

    slug = "filing-refused"
    title = "备案不符合批次或政策条件 (filing does not fit the batch or the policy)"


class FeeCollectionInvalid(ValidationFailed):
    """A recorded fee collection does not fit the guarantee's schedule."""

    slug, title = "fee-collection-invalid", "担保费实收与收费计划不符 (collection does not fit)"


class FeeCollectionConflict(Conflict):
    slug = "fee-collection-conflict"
    title = "该收款凭证已按不同内容登记 (receipt recorded with other facts)"
