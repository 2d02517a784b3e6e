from shared.errors import Conflict, NotFound, ValidationFailed


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
