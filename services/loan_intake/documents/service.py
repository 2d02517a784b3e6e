"""Keep and hand out a firm's papers. Who may is the application's own rule: whoever may read
the application (the firm — a verified account, or the one that filed it —, the bureau,
the bank gateway) may read its papers; the firm and the bureau may add to them. Never
commits, never HTTP."""

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.loan_intake.applications import service as applications
from services.loan_intake.documents import repository as repo
from services.loan_intake.documents.exceptions import (
    DocumentInvalid,
    DocumentNotFound,
    DocumentUnsupported,
    TooManyDocuments,
)
from services.loan_intake.documents.schemas import KINDS_ZH, MAX_PER_APPLICATION, DocumentPublic
from services.loan_intake.models import ApplicationDocument
from shared.auth import Principal
from shared.uploads import MAX_DOCUMENT_BYTES, safe_filename, sniffed


def public(document: ApplicationDocument) -> DocumentPublic:
    return DocumentPublic(
        id=document.id,
        application_id=document.application_id,
        kind=document.kind,
        kind_zh=KINDS_ZH.get(document.kind, document.kind),
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_at=document.uploaded_at,
    )


async def upload(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    kind: str,
    filename: str,
    declared_type: str,
    content: bytes,
) -> tuple[DocumentPublic, bool]:
    """Keep one paper; (it, kept now). The same file of the same kind again is a no-op."""
    # Raises ApplicationNotFound for another firm's application, as reading it would.
    await applications.get_application(
        session=session, principal=principal, application_id=application_id
    )
    if kind not in KINDS_ZH:
        listed = "、".join(f"{code}（{name}）" for code, name in KINDS_ZH.items())
        raise DocumentInvalid(f"材料类别 {kind!r} 不在可选之列：{listed}")
    if not content:
        raise DocumentInvalid("上传的文件为空")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentInvalid("文件超过 10 MB，请压缩或分页后上传")
    actual = sniffed(content)
    declared = declared_type.split(";", 1)[0].strip().lower()
    if actual is None or (
        declared and declared != "application/octet-stream" and actual != declared
    ):
        raise DocumentUnsupported(
            "只接受 PDF、JPG 或 PNG 文件，且文件类型须与内容一致"
            f"（内容{'为 ' + actual if actual else '不是其中任何一种'}）"
        )
    digest = hashlib.sha256(content).hexdigest()
    existing = await repo.by_digest(
        session=session, application_id=application_id, kind=kind, sha256=digest
    )
    if existing is not None:
        return public(existing), False
    if len(await repo.documents_of(session=session, application_id=application_id)) >= (
        MAX_PER_APPLICATION
    ):
        raise TooManyDocuments(f"每件申请最多 {MAX_PER_APPLICATION} 份材料")
    document = ApplicationDocument(
        application_id=application_id,
        kind=kind,
        filename=safe_filename(filename),
        content_type=actual,
        size=len(content),
        sha256=digest,
        content=content,
        uploaded_by=principal.actor,
    )
    repo.add(session, document)
    await session.flush()
    return public(document), True


async def list_for(
    *, session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> list[DocumentPublic]:
    await applications.get_application(
        session=session, principal=principal, application_id=application_id
    )
    return [
        public(d) for d in await repo.documents_of(session=session, application_id=application_id)
    ]


async def get(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    document_id: uuid.UUID,
) -> ApplicationDocument:
    await applications.get_application(
        session=session, principal=principal, application_id=application_id
    )
    document = await repo.get(session=session, document_id=document_id)
    if document is None or document.application_id != application_id:
        raise DocumentNotFound(f"申请 {application_id} 没有编号为 {document_id} 的材料")
    return document
