"""Messages that leave the platform for a person (SMS, e-mail): one interface, and the
development sink the tests and `make run` read — a JSON line per message in a file. A
production channel (the district's SMS gateway) implements the same ``send``."""

import asyncio
import json
from pathlib import Path
from typing import Protocol

from shared.clock import utcnow


class Channel(Protocol):
    async def send(self, *, to: str, text: str, purpose: str) -> None:
        """Deliver ``text`` to ``to`` (a phone number or an address); ``purpose`` names the
        kind of message for the log (password_reset, status_changed …)."""


class FileSink:
    """Development: every message appended to ``path`` as a JSON line, nothing sent."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, *, to: str, text: str, purpose: str) -> None:
        line = json.dumps(
            {"to": to, "text": text, "purpose": purpose, "at": utcnow().isoformat()},
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def sent(self) -> list[dict[str, str]]:
        """What was sent so far (for tests and the developer)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]
