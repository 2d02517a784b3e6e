from shared.errors import Conflict, NotFound, UnsupportedMediaType, ValidationFailed


class ClaimNotFound(NotFound):
    slug, title = "claim-not-found", "代偿记录不存在 (claim not found)"


class ClaimConflict(Conflict):
    slug, title = "claim-conflict", "该贷款已按不同内容申请代偿 (claim filed with other facts)"


class ClaimInvalid(ValidationFailed):
    slug, title = "claim-invalid", "代偿申请与担保不符 (claim does not fit the guarantee)"


class RecoveryConflict(Conflict):
    slug, title = "recovery-conflict", "该追偿已按不同内容登记 (recovery recorded with other facts)"


class ClaimTooEarly(ValidationFailed):
    slug, title = "claim-too-early", "贷款逾期天数未满，暂不能申请代偿 (claim filed too early)"


class ClaimTooLate(ValidationFailed):
    slug, title = "claim-too-late", "已过代偿申请期限，不予受理 (claim filed after the deadline)"


class ClaimNotReviewable(Conflict):
    slug, title = (
        "claim-not-reviewable",
        "该代偿申请当前状态不能进行此操作 (not in a state for this)",
    )


class ClaimReviewInvalid(ValidationFailed):
    slug, title = "claim-review-invalid", "代偿审核意见不完整或金额不符 (review incomplete)"


class ClaimPaymentInvalid(ValidationFailed):
    slug, title = "claim-payment-invalid", "代偿支付信息与应付金额不符 (payment does not fit)"


class ClaimDocumentInvalid(ValidationFailed):
    slug, title = "claim-document-invalid", "代偿材料不符合要求 (claim document refused)"


class ClaimDocumentUnsupported(UnsupportedMediaType):
    slug, title = "claim-document-type", "代偿材料只接受 PDF、JPG 或 PNG (PDF, JPEG or PNG only)"


class ClaimDocumentNotFound(NotFound):
    slug, title = "claim-document-not-found", "代偿材料不存在 (claim document not found)"
