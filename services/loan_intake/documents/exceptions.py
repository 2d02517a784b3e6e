from shared.errors import AppError, NotFound, ValidationFailed


class DocumentNotFound(NotFound):
    slug, title = "application-document-not-found", "申请材料不存在"


class DocumentInvalid(ValidationFailed):
    slug, title = "application-document-invalid", "申请材料不符合要求"


class DocumentUnsupported(AppError):
    status, slug, title = 415, "application-document-type", "申请材料只接受 PDF、JPG 或 PNG"


class TooManyDocuments(AppError):
    status, slug, title = 409, "application-document-limit", "申请材料已达上限"
