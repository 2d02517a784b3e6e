"""The one place structlog is configured.

Every log line carries the service name and, inside a request or an outbox hand-off,
the request id (read from asgi-correlation-id's context variable, which the middleware
sets and the outbox worker restores); personal data and secrets are masked
(shared/masking.py).
"""

import logging
import sys
from typing import Any

import structlog
from asgi_correlation_id import correlation_id

from shared.masking import mask_personal_data


def _add_request_id(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    request_id = correlation_id.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def configure_logging(*, service: str, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and route the standard library's loggers through it."""
    if json is None:
        json = not sys.stderr.isatty()

    def add_service(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        add_service,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        mask_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else lambda _, __, e: e,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Our access-log middleware writes one line per request; uvicorn's would be a second.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every request at INFO; our own lines say what was called and why.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # procrastinate says three lines a second per drain (deferred, started, ended); its
    # warnings and errors stay. Our outboxes log what was delivered or retried.
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
