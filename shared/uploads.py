"""Files people send us (a claim's papers, a firm's licence and statements): recognised by
their content — never by the name or type the uploader claims — and handed back as
downloads that a browser will not run."""

import unicodedata
from urllib.parse import quote

# The first bytes of each type we take, and what it is called.
SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def sniffed(content: bytes) -> str | None:
    """The type ``content`` is by its first bytes, if it is one we take."""
    return next((kind for magic, kind in SIGNATURES.items() if content.startswith(magic)), None)


def safe_filename(name: str) -> str:
    """The uploader's file name as a label only: no path, no control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    shown = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip(" .")
    return shown[:120] or "document"


def download_headers(filename: str) -> dict[str, str]:
    """A download, never a page: attachment, no sniffing, no script even if opened."""
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-store",
    }
