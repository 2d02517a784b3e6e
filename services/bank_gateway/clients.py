"""Typed client for loan_intake."""

import uuid
from datetime import date
from typing import Any

import httpx
from pydantic import BaseModel

from shared.contracts.allocation import ApplicationForAllocation, ApplicationList
from shared.contracts.claims import ClaimRequest, ClaimTopUpRequest, RecoveryReport
from shared.contracts.filing import BankFiledApplication
from shared.contracts.guarantee import (
    FeeLines,
    FirmsExposure,
    FirmsExposureRequest,
    GuaranteeFiling,
    GuaranteeOutstanding,
    GuaranteeOverdue,
    GuaranteeRelease,
)
from shared.contracts.loan_status import LoanStatusUpdateBatch
from shared.contracts.policy import PolicyVersionSummary
from shared.contracts.reconciliation import (
    ApplicationIds,
    ApplicationStatusViews,
    FundLoanViews,
    LoanIds,
)
from shared.money import to_fen


class IntakeUnavailable(Exception):
    """loan_intake could not be reached or answered 5xx."""


class IntakeRefused(Exception):
    """loan_intake refused the request (4xx): its problem document."""

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(str(problem.get("detail") or problem.get("title") or problem))
        self.problem = problem


class IntakeClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def file_application(self, filing: BankFiledApplication) -> ApplicationForAllocation:
        """A bank's own loan's application (见贷即保), recorded and assessed by intake."""
        try:
            response = await self._http.post(
                "/v1/applications/bank-filed",
                content=filing.model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 408, 429):
            raise IntakeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:500]}
            raise IntakeRefused(problem if isinstance(problem, dict) else {"detail": problem})
        return ApplicationForAllocation.model_validate_json(response.content)

    async def application_paper(self, application_id: uuid.UUID, rest: str = "") -> httpx.Response:
        """The firm's papers of an application (``rest`` = "/<document id>": one of them), as
        intake answers them (a list as JSON, a file as itself, or its problem)."""
        try:
            response = await self._http.get(f"/v1/applications/{application_id}/documents{rest}")
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise IntakeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        return response

    async def statuses(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        """Each application's status as the SME sees it (at most 500 at a time)."""
        try:
            response = await self._http.post(
                "/v1/applications/statuses",
                content=ApplicationIds(ids=ids).model_dump_json(),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"{type(exc).__name__}") from exc
        if response.status_code != 200:
            raise IntakeUnavailable(f"HTTP {response.status_code}: {response.text[:300]}")
        views = ApplicationStatusViews.model_validate_json(response.content)
        return {v.id: v.status for v in views.items}

    @property
    def http(self) -> httpx.AsyncClient:
        """The client itself, for calls made on a signed-in person's behalf (their token)."""
        return self._http

    async def application(self, application_id: uuid.UUID) -> ApplicationForAllocation | None:
        """The application, or None if intake does not know it."""
        try:
            response = await self._http.get(f"/v1/applications/{application_id}")
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise IntakeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        return ApplicationForAllocation.model_validate_json(response.content)

    async def eligible_applications(self, *, page: int, page_size: int) -> ApplicationList:
        """Eligible applications, oldest first."""
        try:
            response = await self._http.get(
                "/v1/applications",
                params={
                    "status": "eligible",
                    "order": "oldest",
                    "page": page,
                    "page_size": page_size,
                },
            )
        except httpx.HTTPError as exc:
            raise IntakeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise IntakeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        return ApplicationList.model_validate_json(response.content)

    async def loan_updates(self, batch: LoanStatusUpdateBatch) -> tuple[int, str]:
        """Report loan changes; (status code, body: a LoanStatusUpdateBatchResult).
        Transport errors raise httpx.HTTPError."""
        response = await self._http.post(
            "/v1/applications/loan-updates",
            content=batch.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        return response.status_code, response.text

    async def aclose(self) -> None:
        await self._http.aclose()


class GuaranteeUnavailable(Exception):
    """The guarantee service could not be reached or answered 5xx."""


class GuaranteeClient:
    """The guarantee service: policy versions batches are drafted under, 备案, claims."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    @property
    def http(self) -> httpx.AsyncClient:
        """The client itself, for calls made on a signed-in person's behalf (their token)."""
        return self._http

    async def firms_outstanding(self, usccs: list[str]) -> dict[str, int]:
        """在保余额 of each firm, in fen."""
        body = FirmsExposureRequest(usccs=usccs)
        try:
            status, text = await self._post("/v1/guarantees/exposure/firms", body)
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if status != 200:
            raise GuaranteeUnavailable(f"HTTP {status}: {text[:500]}")
        return {
            f.uscc: to_fen(f.outstanding) for f in FirmsExposure.model_validate_json(text).items
        }

    async def policy_version(self, policy_id: uuid.UUID) -> PolicyVersionSummary | None:
        try:
            response = await self._http.get(f"/v1/policies/{policy_id}")
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise GuaranteeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        return PolicyVersionSummary.model_validate_json(response.content)

    async def fee_lines(self, month_from: str, month_to: str) -> FeeLines:
        """Per loan and month: fees due, their subsidy and fees received (statements)."""
        response = await self._get(
            "/v1/guarantees/fee-lines", month_from=month_from, month_to=month_to
        )
        return FeeLines.model_validate_json(response.content)

    async def settlement_period(self, on: date) -> str:
        """How the policy in force on ``on`` settles: "monthly" or "quarterly"."""
        response = await self._get("/v1/policies/in-force", on=on.isoformat())
        document = response.json().get("document") or {}
        return str((document.get("settlement") or {}).get("period") or "monthly")

    async def _get(self, path: str, **params: str) -> httpx.Response:
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}") from exc
        if response.status_code != 200:
            raise GuaranteeUnavailable(f"HTTP {response.status_code}: {response.text[:300]}")
        return response

    async def file_loan(self, filing: GuaranteeFiling) -> tuple[int, str]:
        """备案; (status code, body). Transport errors raise httpx.HTTPError."""
        return await self._post("/v1/guarantees", filing)

    async def release(self, loan_id: uuid.UUID, release: GuaranteeRelease) -> tuple[int, str]:
        """解保: the loan settled, was paid out or written off."""
        return await self._post(f"/v1/guarantees/{loan_id}/release", release)

    async def report_outstanding(
        self, loan_id: uuid.UUID, report: GuaranteeOutstanding
    ) -> tuple[int, str]:
        """在保余额 after a repayment."""
        return await self._post(f"/v1/guarantees/{loan_id}/outstanding", report)

    async def report_overdue(self, loan_id: uuid.UUID, report: GuaranteeOverdue) -> tuple[int, str]:
        """The loan fell overdue: no fee subsidy for periods due until it is cured."""
        return await self._post(f"/v1/guarantees/{loan_id}/overdue", report)

    async def file_claim(self, claim: ClaimRequest) -> tuple[int, str]:
        """代偿: taken for the fund's review (a ClaimReceipt), or refused (a problem)."""
        return await self._post("/v1/claims", claim)

    async def top_up(self, request: ClaimTopUpRequest) -> tuple[int, str]:
        """The batch grew: claims its ceiling cut are paid what the room allows now."""
        return await self._post("/v1/claims/top-ups", request)

    async def report_recovery(self, loan_id: uuid.UUID, report: RecoveryReport) -> tuple[int, str]:
        """A recovery after a payout; the split comes back in the body (a RecoveryShare)."""
        return await self._post(f"/v1/claims/{loan_id}/recoveries", report)

    async def fund_view(self, loan_ids: list[uuid.UUID]) -> FundLoanViews:
        """The fund's figures of these loans (at most 500), for the three-way reconciliation."""
        try:
            status, text = await self._post("/v1/claims/fund-view", LoanIds(loan_ids=loan_ids))
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}") from exc
        if status != 200:
            raise GuaranteeUnavailable(f"HTTP {status}: {text[:300]}")
        return FundLoanViews.model_validate_json(text)

    async def upload_claim_document(
        self, loan_id: uuid.UUID, *, kind: str, filename: str, content_type: str, content: bytes
    ) -> httpx.Response:
        """A bank's paper for its claim, passed on as it came; the fund checks it."""
        try:
            return await self._http.post(
                f"/v1/claims/{loan_id}/documents",
                params={"kind": kind, "filename": filename},
                content=content,
                headers={"Content-Type": content_type or "application/octet-stream"},
                timeout=httpx.Timeout(30.0),
            )
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}") from exc

    async def _post(self, path: str, body: BaseModel) -> tuple[int, str]:
        response = await self._http.post(
            path, content=body.model_dump_json(), headers={"Content-Type": "application/json"}
        )
        return response.status_code, response.text

    async def aclose(self) -> None:
        await self._http.aclose()
