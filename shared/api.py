"""What every API router shares: the problems every route can answer with (for its
``responses=``), and the pagination parameters of lists."""

from typing import Annotated

from fastapi import Query

from shared.errors import (
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

# Any route behind a token: no token, or not allowed.
AUTH_PROBLEMS = (Unauthenticated, Forbidden)
# Any route with a body: unreadable, too large, not JSON, or not what the route takes.
BODY_PROBLEMS = (InvalidRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed)

Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]


# The OpenAPI request body of an upload whose body is the file itself (a claim's papers).
FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("application/pdf", "image/jpeg", "image/png")
        },
    }
}
