from shared.errors import NotFound, ValidationFailed


class WhatIfNotFound(NotFound):
    slug, title = "whatif-not-found", "模拟任务不存在 (what-if job not found)"


class WhatIfPeriodInvalid(ValidationFailed):
    slug, title = "whatif-period-invalid", "模拟期间无效 (what-if period invalid)"
