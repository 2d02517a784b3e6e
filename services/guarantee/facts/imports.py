"""A list file as the issuer sent it — CSV (UTF-8 or GBK) or Excel — read into entries, or
every bad row named with why. Pure: bytes in, entries or findings out.

Columns are found by their header (the usual Chinese names, or a mapping the clerk gives);
every row is checked — the USCC's check character, a name, dates as dates, no USCC twice —
and a file with one bad row imports nothing (the clerk fixes the file and imports again).
"""

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shared.uscc import InvalidUSCC, validate_uscc

MAX_ROWS = 200_000
FIELDS = ("uscc", "name", "certificate_no", "valid_from", "valid_to")
REQUIRED = ("uscc", "name")
FIELD_ZH = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "certificate_no": "证书编号",
    "valid_from": "有效期起",
    "valid_to": "有效期至",
}
# The headers issuers use, per field (compared without spaces, case-insensitive).
HEADERS = {
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "uscc"),
    "name": ("企业名称", "单位名称", "企业（单位）名称", "名称", "name"),
    "certificate_no": ("证书编号", "证书号", "登记编号", "入库编号", "certificate_no"),
    "valid_from": ("有效期起", "发证日期", "认定日期", "入库日期", "valid_from"),
    "valid_to": ("有效期至", "有效期止", "有效期截止", "valid_to"),
}


class UnreadableFile(ValueError):
    """Not a CSV or Excel file we can read, or no header naming the required columns."""


class MissingColumns(UnreadableFile):
    """The header names no column for a required field: the clerk maps them (a preview
    shows the header and what was found)."""

    def __init__(self, message: str, header: list[str], found: dict[str, str]) -> None:
        super().__init__(message)
        self.header, self.found = header, found


@dataclass(frozen=True)
class Entry:
    uscc: str
    name: str
    certificate_no: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class BadRow:
    row: int  # as the clerk's spreadsheet numbers it (the header is row 1)
    column: str
    value: str
    finding: str


@dataclass(frozen=True)
class Parsed:
    columns: dict[str, str]  # field → the header it was read from
    entries: list[Entry]
    bad: list[BadRow]
    header: list[str]  # the file's first row, for the clerk to map columns from

    @property
    def content_hash(self) -> str:
        """The list's identity: its entries, sorted, whatever the file's order or format."""
        rows = sorted(
            [e.uscc, e.name, e.certificate_no, _iso(e.valid_from), _iso(e.valid_to)]
            for e in self.entries
        )
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def read_table(content: bytes, filename: str) -> list[list[str]]:
    """The file's rows as text cells (an .xlsx by its name or its zip signature)."""
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        return _xlsx(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile("文件既不是 UTF-8 也不是 GBK 编码的 CSV，也不是 Excel（.xlsx）")
    return [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]


def _xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise UnreadableFile("无法读取 Excel 文件（应为 .xlsx）") from error
    sheet = book.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        cells = ["" if v is None else _cell(v) for v in values]
        if any(c.strip() for c in cells):
            rows.append(cells)
        if len(rows) > MAX_ROWS + 1:
            break
    book.close()
    return rows


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def find_columns(header: list[str], mapping: dict[str, str] | None = None) -> dict[str, int]:
    """field → column index: the clerk's mapping first, then the usual headers."""
    squeezed = [h.replace(" ", "").replace("\u3000", "").lower() for h in header]
    found: dict[str, int] = {}
    for field in FIELDS:
        wanted = [mapping[field]] if mapping and mapping.get(field) else list(HEADERS[field])
        for name in wanted:
            key = name.replace(" ", "").lower()
            if key in squeezed:
                found[field] = squeezed.index(key)
                break
    missing = [FIELD_ZH[f] for f in REQUIRED if f not in found]
    if missing:
        raise MissingColumns(
            f"表头中找不到“{'、'.join(missing)}”列；表头为：{'、'.join(header[:12]) or '（空）'}。"
            "请在列对应中指定",
            header,
            {f: header[i] for f, i in found.items()},
        )
    return found


def parse(content: bytes, filename: str, mapping: dict[str, str] | None = None) -> Parsed:
    table = read_table(content, filename)
    if not table:
        raise UnreadableFile("文件中没有数据")
    if len(table) > MAX_ROWS + 1:
        raise UnreadableFile(f"名单超过 {MAX_ROWS:,} 行，请分批导入")
    columns = find_columns(table[0], mapping)
    entries, bad, seen = [], [], {}
    for number, row in enumerate(table[1:], start=2):
        cells = {f: (row[i].strip() if i < len(row) else "") for f, i in columns.items()}
        entry, findings = _entry(number, cells)
        if entry is not None and entry.uscc in seen:
            findings.append(
                BadRow(number, FIELD_ZH["uscc"], entry.uscc, f"与第 {seen[entry.uscc]} 行重复")
            )
        if findings:
            bad.extend(findings)
        elif entry is not None:
            seen[entry.uscc] = number
            entries.append(entry)
    return Parsed({f: table[0][i] for f, i in columns.items()}, entries, bad, table[0])


def day_of(text: str) -> date:
    """2024-03-01, 2024/3/1, 2024.3.1 or 2024年3月1日 (a datetime's time part ignored)."""
    cleaned = text.split(" ")[0].split("T")[0]
    for mark in ("年", "月", "/", "."):
        cleaned = cleaned.replace(mark, "-")
    parts = cleaned.rstrip("日").split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def _entry(number: int, cells: dict[str, str]) -> tuple[Entry | None, list[BadRow]]:
    findings = []
    uscc = cells["uscc"]
    try:
        uscc = validate_uscc(uscc)
    except InvalidUSCC as error:
        findings.append(BadRow(number, FIELD_ZH["uscc"], cells["uscc"], error.message_zh))
    name = cells["name"]
    if not name:
        findings.append(BadRow(number, FIELD_ZH["name"], "", "企业名称为空"))
    elif len(name) > 200 or any(ord(c) < 32 for c in name):
        findings.append(BadRow(number, FIELD_ZH["name"], name[:50], "企业名称过长或含控制字符"))
    days: dict[str, date | None] = {}
    for field in ("valid_from", "valid_to"):
        text = cells.get(field, "")
        days[field] = None
        if text:
            try:
                days[field] = day_of(text)
            except ValueError:
                findings.append(BadRow(number, FIELD_ZH[field], text, "日期格式应为 YYYY-MM-DD"))
    if days["valid_from"] and days["valid_to"] and days["valid_to"] < days["valid_from"]:
        findings.append(
            BadRow(number, FIELD_ZH["valid_to"], str(days["valid_to"]), "有效期至早于有效期起")
        )
    certificate = cells.get("certificate_no") or None
    if certificate and len(certificate) > 100:
        findings.append(
            BadRow(number, FIELD_ZH["certificate_no"], certificate[:50], "证书编号过长")
        )
    if findings:
        return None, findings
    return Entry(uscc, name, certificate, days["valid_from"], days["valid_to"]), []
