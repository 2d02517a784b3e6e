"""Typed client for the guarantee service."""

import json
import uuid
from typing import Any

import httpx

from shared.contracts.assessment import (
    ApplicationsLapsed,
    AssessmentBatch,
    AssessmentBatchItem,
    AssessmentBatchOutcome,
    AssessmentBatchResult,
    AssessmentPreview,
    AssessmentRequest,
)


class GuaranteeUnavailable(Exception):
    """The guarantee service could not be reached or answered 5xx: try again later."""


class GuaranteeRefused(Exception):
    """The guarantee service refused the whole batch (4xx): retrying will not help."""


class GuaranteeClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def assess_batch(self, items: list[AssessmentBatchItem]) -> list[AssessmentBatchOutcome]:
        headers = {}
        if len(items) == 1 and items[0].request_id:
            headers["X-Request-ID"] = items[0].request_id
        body = AssessmentBatch(items=items).model_dump_json()
        response = await self._post("/v1/assessments/batch", body, headers)
        return AssessmentBatchResult.model_validate_json(response.content).outcomes

    async def report_lapses(self, application_ids: list[uuid.UUID]) -> None:
        """Applications that will never be lent: their firms' room under the cap returns."""
        body = ApplicationsLapsed(application_ids=application_ids).model_dump_json()
        await self._post("/v1/assessments/lapses", body)

    async def preview(self, request: AssessmentRequest) -> AssessmentPreview:
        """预审: what the policy in force would decide now (nothing recorded)."""
        response = await self._post("/v1/assessments/preview", request.model_dump_json())
        return AssessmentPreview.model_validate_json(response.content)

    async def guarantee_of(self, application_id: uuid.UUID) -> dict[str, Any] | None:
        """The guarantee issued for the application's loan (its billed fee schedule), or
        None when there is none (not filed yet, or refused)."""
        try:
            response = await self._http.get(f"/v1/guarantees/of-application/{application_id}")
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GuaranteeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        found: dict[str, Any] = response.json()
        return found

    async def request_fact_review(self, body: dict[str, Any]) -> dict[str, Any]:
        """The firm's request that the bureau check its certificate (the pending one if
        asked again)."""
        response = await self._post("/v1/fact-reviews", json.dumps(body, ensure_ascii=False))
        found: dict[str, Any] = response.json()
        return found

    async def fact_reviews_of(self, application_id: uuid.UUID) -> list[dict[str, Any]]:
        """The firm's requests for review on this application, pending first."""
        try:
            response = await self._http.get(
                "/v1/fact-reviews", params={"application_id": str(application_id)}
            )
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise GuaranteeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def _post(
        self, path: str, body: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """Unavailable (transport, 5xx, 408, 429: try again later) or refused (other 4xx)."""
        try:
            response = await self._http.post(
                path, content=body, headers={"Content-Type": "application/json", **(headers or {})}
            )
        except httpx.HTTPError as exc:
            raise GuaranteeUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise GuaranteeUnavailable(f"HTTP {response.status_code}: {response.text[:500]}")
        if response.status_code >= 400:
            raise GuaranteeRefused(f"HTTP {response.status_code}: {response.text[:1000]}")
        return response

    async def aclose(self) -> None:
        await self._http.aclose()
