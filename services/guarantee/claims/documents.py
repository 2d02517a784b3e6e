"""A claim's papers (事故报告书, 催收记录, court papers…): uploaded by the bank through the
gateway, checked by their content — never by the name or type the uploader claims — and
kept here, in the guarantee service's database, for the fund's reviewers. Never commits.

Only PDF, JPEG and PNG are taken, recognised by their first bytes; the declared type must
agree. The kinds are the policy's (``claims.required_documents`` and ``optional_documents``);
a reviewer approves or reduces a claim only once every required kind is there.
"""

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantee.claims import repository as repo
from services.guarantee.claims import service as claims
from services.guarantee.claims.exceptions import (
    ClaimDocumentInvalid,
    ClaimDocumentNotFound,
    ClaimDocumentUnsupported,
)
from services.guarantee.guarantees import service as guarantees
from services.guarantee.guarantees.exceptions import GuaranteeNotFound
from services.guarantee.models import AuditEntry, ClaimDocument
from services.guarantee.policies.document import ClaimTerms
from shared import audit, uploads
from shared.auth import Principal
from shared.contracts.claims import ClaimDocumentPublic
from shared.uploads import safe_filename, sniffed


def download_headers(document: ClaimDocument) -> dict[str, str]:
    return uploads.download_headers(document.filename)


def public(document: ClaimDocument, kinds: dict[str, str]) -> ClaimDocumentPublic:
    return ClaimDocumentPublic(
        id=document.id,
        loan_id=document.loan_id,
        kind=document.kind,
        kind_zh=kinds.get(document.kind, document.kind),
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_at=document.uploaded_at,
    )


async def terms_for_loan(session: AsyncSession, loan_id: uuid.UUID) -> ClaimTerms:
    guarantee = await guarantees.for_loan(session=session, loan_id=loan_id)
    if guarantee is None:
        raise GuaranteeNotFound(f"贷款 {loan_id} 没有备案的担保，不能提交代偿材料")
    terms, _, _ = await claims.claim_terms(session, guarantee.policy_version_id)
    return terms


async def upload(
    *,
    session: AsyncSession,
    loan_id: uuid.UUID,
    kind: str,
    filename: str,
    declared_type: str,
    content: bytes,
    principal: Principal,
) -> tuple[ClaimDocumentPublic, bool]:
    """Keep one paper of the loan's claim; (it, kept now). The same file again is a no-op."""
    kinds = (await terms_for_loan(session, loan_id)).document_kinds()
    if kind not in kinds:
        listed = "、".join(f"{code}（{name}）" for code, name in kinds.items())
        raise ClaimDocumentInvalid(f"材料类别 {kind!r} 不在政策所列之内：{listed}")
    if not content:
        raise ClaimDocumentInvalid("上传的文件为空")
    actual = sniffed(content)
    declared = declared_type.split(";", 1)[0].strip().lower()
    if actual is None or actual != declared:
        raise ClaimDocumentUnsupported(
            f"只接受 PDF、JPG 或 PNG 文件，且声明类型须与内容一致（声明 {declared or '无'}，"
            f"内容{'为 ' + actual if actual else '不是其中任何一种'}）"
        )
    digest = hashlib.sha256(content).hexdigest()
    existing = await repo.document_by_digest(
        session=session, loan_id=loan_id, kind=kind, sha256=digest
    )
    if existing is not None:
        return public(existing, kinds), False
    document = ClaimDocument(
        loan_id=loan_id,
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
    audit.append(
        session,
        AuditEntry,
        actor=principal.actor,
        action="claim.document_uploaded",
        entity_type="claim_document",
        entity_id=str(document.id),
        detail={"loan_id": str(loan_id), "kind": kind, "sha256": digest, "size": len(content)},
        created=True,
    )
    return public(document, kinds), True


async def list_for_loan(*, session: AsyncSession, loan_id: uuid.UUID) -> list[ClaimDocumentPublic]:
    kinds = (await terms_for_loan(session, loan_id)).document_kinds()
    return [public(d, kinds) for d in await repo.documents_of(session=session, loan_id=loan_id)]


async def get(
    *, session: AsyncSession, loan_id: uuid.UUID, document_id: uuid.UUID
) -> ClaimDocument:
    document = await repo.get_document(session=session, document_id=document_id)
    if document is None or document.loan_id != loan_id:
        raise ClaimDocumentNotFound(f"贷款 {loan_id} 没有编号为 {document_id} 的代偿材料")
    return document


async def missing(session: AsyncSession, loan_id: uuid.UUID, terms: ClaimTerms) -> list[str]:
    """The names of the required papers the loan's claim still lacks."""
    present = {d.kind for d in await repo.documents_of(session=session, loan_id=loan_id)}
    return [d.name_zh for d in terms.required_documents if d.code not in present]
