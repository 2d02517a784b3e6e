"""PDF documents in Chinese (fpdf2): statements, decision letters. The glyphs used are
embedded from Debian's fonts-noto-cjk, so a document reads the same on a machine without
Chinese fonts.

fpdf2 (with fontTools and Pillow) is imported on the first document, not with the service:
it is ≈ 32 MB of every process's resident memory otherwise (bench/README.md)."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.errors import ServiceUnavailable

if TYPE_CHECKING:
    from fpdf import FPDF

# Installed with the browser (`make browser`) and in the service image (Dockerfile).
CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SIMPLIFIED_CHINESE = 2  # the face of NotoSansCJK-Regular.ttc for 简体中文 (Noto Sans CJK SC)
FONT = "cjk"


def chinese_pdf(*, orientation: str = "portrait", fallback: str = "") -> "FPDF":
    """An A4 document with the Chinese font registered as ``FONT``; without the font, a
    503 that says so (and ``fallback``: what to use instead)."""
    if not CJK_FONT.exists():
        raise ServiceUnavailable(
            f"服务器未安装中文字体（fonts-noto-cjk），暂不能生成 PDF{fallback}"
        )
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_font(FONT, fname=str(CJK_FONT), collection_font_number=SIMPLIFIED_CHINESE)
    pdf.add_page()
    return pdf


def heading_style() -> Any:
    """A table's heading row: the pale blue of the console's own tables."""
    from fpdf.fonts import FontFace

    return FontFace(fill_color=(230, 236, 244))
