"""The raw baseline: Starlette + asyncpg, one JSON body in, one row inserted.

``POST /rows`` is what intake's submission would cost with no framework, validation, ORM,
history, idempotency or outbox; ``POST /events`` is what a bank callback would cost with
no token, signature, replay check, ledger or outbox. The ratio against them is the price
of all of those.
"""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DSN = os.environ.get("BASELINE_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(DSN, min_size=10, max_size=20)
    async with app.state.pool.acquire() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS baseline_rows ("
            " id bigserial PRIMARY KEY, uscc text NOT NULL, amount_fen bigint NOT NULL,"
            " body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
        )
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS baseline_events ("
            " id bigserial PRIMARY KEY, event_key text NOT NULL, loan_id text NOT NULL,"
            " body jsonb NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"
        )
    yield
    await app.state.pool.close()


async def insert(request: Request) -> JSONResponse:
    body = await request.json()
    amount_fen = int(body["loan"]["amount"].replace(".", ""))
    row_id = await request.app.state.pool.fetchval(
        "INSERT INTO baseline_rows (uscc, amount_fen, body) VALUES ($1, $2, $3) RETURNING id",
        body["enterprise"]["uscc"],
        amount_fen,
        json.dumps(body),
    )
    return JSONResponse({"id": row_id}, status_code=201)


async def event(request: Request) -> JSONResponse:
    body = await request.json()
    await request.app.state.pool.execute(
        "INSERT INTO baseline_events (event_key, loan_id, body) VALUES ($1, $2, $3)",
        request.headers.get("webhook-id", ""),
        body["data"]["loan_id"],
        json.dumps(body),
    )
    return JSONResponse({"id": request.headers.get("webhook-id"), "status": "applied"})


app = Starlette(
    routes=[Route("/rows", insert, methods=["POST"]), Route("/events", event, methods=["POST"])],
    lifespan=lifespan,
)
