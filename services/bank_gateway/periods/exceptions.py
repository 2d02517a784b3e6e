from shared.errors import Conflict, NotFound, ValidationFailed


class PeriodNotFound(NotFound):
    slug, title = "period-not-found", "没有该结算期 (no such fiscal period)"


class PeriodNotClosable(Conflict):
    """Only the oldest open period, once ended, can be closed."""

    slug, title = "period-not-closable", "该结算期现在不能关账 (the period cannot be closed now)"


class PeriodNotClosed(Conflict):
    slug, title = "period-not-closed", "结算期尚未关账 (the period is not closed)"


class PayoutInvalid(ValidationFailed):
    slug, title = "payout-invalid", "拨付登记不符 (the payout does not fit the statement)"
