"""Typed client for loan_intake."""

import uuid

import httpx

from shared.contracts.allocation import ApplicationForAllocation


class IntakeUnavailable(Exception):
    """loan_intake could not be reached or answered 5xx."""


class IntakeClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

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

    async def aclose(self) -> None:
        await self._http.aclose()
