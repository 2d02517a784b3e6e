"""Calls to loan_intake and the guarantee service on the signed-in staff member's behalf.

They carry the person's own token, so those services check that person's role and write
that person into their history and audit — the console holds no powers of its own.
"""

from typing import Any

import httpx
from fastapi import Request

from shared.errors import AppError, ServiceUnavailable
from shared.web import problem_text, session_token


class CallFailed(AppError):
    """The other service refused: its problem document, shown on the page."""

    status, slug, title = 502, "upstream-failed", "相关服务未能完成操作 (upstream refused)"

    def __init__(self, detail: str, *, problem: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.problem = problem or {}

    @property
    def field_messages(self) -> list[tuple[str, str]]:
        """(where, what) for each error the problem lists, e.g. ("rules.3.when", "…")."""
        return [
            (str(e.get("field", "")), str(e.get("message", "")))
            for e in self.problem.get("errors") or []
            if isinstance(e, dict)
        ]


def refusal_text(failure: AppError) -> str:
    """A refusal as the page says it: the problem and, for a field refusal, where."""
    text = problem_text(failure)
    if isinstance(failure, CallFailed):
        where = "；".join(message for _, message in failure.field_messages[:8])
        if where:
            text += f"（{where}）"
    return text


class OnBehalf:
    def __init__(self, request: Request) -> None:
        self._headers = {"Authorization": f"Bearer {session_token(request)}"}
        self.intake: httpx.AsyncClient = request.app.state.intake.http
        self.guarantee: httpx.AsyncClient = request.app.state.guarantee.http

    async def get(self, client: httpx.AsyncClient, path: str, **params: Any) -> Any:
        return await self._call(client, "GET", path, params=params or None)

    async def post(self, client: httpx.AsyncClient, path: str, body: Any = None) -> Any:
        return await self._call(client, "POST", path, json=body)

    async def put(self, client: httpx.AsyncClient, path: str, body: Any = None) -> Any:
        return await self._call(client, "PUT", path, json=body)

    async def upload(
        self, client: httpx.AsyncClient, path: str, content: bytes, media: str, **params: Any
    ) -> Any:
        """A file as the body (a reference list), its particulars as query parameters."""
        return await self._call(
            client,
            "POST",
            path,
            content=content,
            params=params,
            headers={"Content-Type": media},
        )

    async def raw(self, client: httpx.AsyncClient, path: str) -> httpx.Response:
        """The answer itself (a file to pass on), once it is not an error."""
        return await self._send(client, "GET", path)

    async def text(self, client: httpx.AsyncClient, path: str, **params: Any) -> str:
        response = await self._send(client, "GET", path, params=params or None)
        return response.text

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
        response = await self._send(client, method, path, **kw)
        return response.json() if response.content else None

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, **kw: Any
    ) -> httpx.Response:
        headers = {**self._headers, **kw.pop("headers", {})}
        try:
            response = await client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as error:
            raise ServiceUnavailable(f"无法连接相关服务：{type(error).__name__}") from error
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                raise CallFailed(response.text[:500]) from None
            detail = problem.get("detail") or problem.get("title") or response.text
            raise CallFailed(str(detail)[:500], problem=problem)
        return response
