from shared.errors import NotFound


class EnterpriseNotFound(NotFound):
    slug, title = "enterprise-not-found", "企业不存在"
