"""Cells of exports opened in Excel: text a spreadsheet would take for a formula is
neutralised (OWASP, CSV injection). A bank or firm named ``=HYPERLINK(…)`` is shown as that
text, never run."""

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

# What Excel, LibreOffice and Google Sheets read as the start of a formula (or of a field
# break that lets the next character start one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """Text starting like a formula gets a leading apostrophe; numbers stay numbers."""
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def append_row(sheet: Worksheet, values: list[Any]) -> None:
    """A row whose text cells are stored as text (openpyxl would store ``=…`` as a live
    formula); numbers stay numbers."""
    sheet.append(values)
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            cell.value = "'" + value
            cell.data_type = "s"
