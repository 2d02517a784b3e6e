"""Charts as SVG drawn on the server: no chart library, no script, readable as text.

Each function returns markup for an ``<svg>`` with ``role="img"``, a Chinese ``<title>``
and its figures as ``<text>``, so a screen reader (and a test) reads what a person sees.
"""

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from html import escape

from markupsafe import Markup

PALETTE = ("#0b5cad", "#1a7f37", "#b26a00", "#c62828", "#6f42c1", "#5f6b7a", "#0f8a8a")


def _svg(width: int, height: int, title: str, body: str) -> Markup:
    # Drawn at its own size, never shrunk to fit (its figure scrolls instead): text stays
    # at the 12–14 px it is written in.
    return Markup(  # noqa: S704 - every value inside went through escape()
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bars(title: str, items: Sequence[tuple[str, int | Decimal]], *, unit: str = "") -> Markup:
    """Horizontal bars, one per (label, value)."""
    width, row = 560, 30
    height = 20 + row * max(len(items), 1)
    top = max((Decimal(v) for _, v in items), default=Decimal(0)) or Decimal(1)
    parts = []
    for i, (label, value) in enumerate(items):
        y = 10 + i * row
        length = float(Decimal(value) / top) * 330
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<text x="0" y="{y + 18}" font-size="14">{escape(label)}</text>'
            f'<rect x="150" y="{y + 4}" width="{length:.1f}" height="20" fill="{colour}" rx="3"/>'
            f'<text x="{155 + length:.1f}" y="{y + 19}" font-size="13">'
            f"{escape(f'{value}{unit}')}</text>"
        )
    if not items:
        parts.append('<text x="0" y="30" font-size="14">暂无数据</text>')
    return _svg(width, height, title, "".join(parts))


def compare(title: str, rows: Sequence[tuple[str, Decimal, Decimal]], *, unit: str = "") -> Markup:
    """Before and after, side by side for each row (what-if results)."""
    width, row = 640, 56
    height = 40 + row * max(len(rows), 1)
    top = max((max(b, a) for _, b, a in rows), default=Decimal(0)) or Decimal(1)
    parts = [
        '<text x="150" y="16" font-size="13" fill="#5f6b7a">■ 现行</text>',
        '<text x="230" y="16" font-size="13" fill="#0b5cad">■ 模拟</text>',
    ]
    for i, (label, before, after) in enumerate(rows):
        y = 28 + i * row
        parts.append(f'<text x="0" y="{y + 26}" font-size="14">{escape(label)}</text>')
        for j, (value, colour) in enumerate(((before, "#9aa5b1"), (after, "#0b5cad"))):
            length = float(Decimal(value) / top) * 360
            parts.append(
                f'<rect x="150" y="{y + 4 + 22 * j}" width="{length:.1f}" height="18" '
                f'fill="{colour}" rx="3"/>'
                f'<text x="{155 + length:.1f}" y="{y + 18 + 22 * j}" font-size="12">'
                f"{escape(f'{value}{unit}')}</text>"
            )
    return _svg(width, height, title, "".join(parts))


def lines(
    title: str,
    series: dict[str, Sequence[tuple[date, Decimal]]],
    *,
    ceiling: tuple[str, Decimal] | None = None,
    unit: str = "万元",
) -> Markup:
    """Step lines over time (cumulative figures), with an optional horizontal limit."""
    width, height, left, bottom = 660, 260, 90, 40  # room for "1,234.56万元" at the left
    points = [p for values in series.values() for p in values]
    if not points:
        return _svg(width, 80, title, '<text x="0" y="30" font-size="14">暂无数据</text>')
    first = min(d for d, _ in points)
    last = max(d for d, _ in points)
    span = max((last - first).days, 1)
    top = max([v for _, v in points] + ([ceiling[1]] if ceiling else [])) or Decimal(1)
    plot_w, plot_h = width - left - 20, height - bottom - 30

    def xy(day: date, value: Decimal) -> tuple[float, float]:
        x = left + plot_w * (day - first).days / span
        y = 20 + plot_h * (1 - float(value / top))
        return x, y

    parts = [
        f'<line x1="{left}" y1="{20 + plot_h}" x2="{left + plot_w}" y2="{20 + plot_h}" '
        'stroke="#d9dee5"/>',
        f'<text x="0" y="24" font-size="12">{escape(_wan(top))}{unit}</text>',
        f'<text x="0" y="{20 + plot_h}" font-size="12">0</text>',
        f'<text x="{left}" y="{height - 18}" font-size="12">{first.isoformat()}</text>',
    ]
    if last != first:  # one day alone is named once
        parts.append(
            f'<text x="{left + plot_w}" y="{height - 18}" font-size="12" text-anchor="end">'
            f"{last.isoformat()}</text>"
        )
    if ceiling:
        _, cy = xy(first, ceiling[1])
        parts.append(
            f'<line x1="{left}" y1="{cy:.1f}" x2="{left + plot_w}" y2="{cy:.1f}" '
            'stroke="#c62828" stroke-dasharray="6 4"/>'
            f'<text x="{left + 4}" y="{cy - 4:.1f}" font-size="12" fill="#c62828">'
            f"{escape(ceiling[0])} {escape(_wan(ceiling[1]))}{unit}</text>"
        )
    parts += _series(series, xy, (left, left + plot_w), height, unit)
    return _svg(width, height, title, "".join(parts))


def _series(
    series: dict[str, Sequence[tuple[date, Decimal]]],
    xy: Callable[[date, Decimal], tuple[float, float]],
    edges: tuple[float, float],
    height: int,
    unit: str,
) -> list[str]:
    """Each series as a step line to the right edge, and its legend with the last figure."""
    parts = []
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        steps = sorted(values)
        path = []
        for j, (day, value) in enumerate(steps):
            x, y = xy(day, value)
            path.append(f"M{x:.1f},{y:.1f}" if j == 0 else f"H{x:.1f} V{y:.1f}")
        if steps:
            path.append(f"H{edges[1]}")
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        final = steps[-1][1] if steps else Decimal(0)
        parts.append(
            f'<text x="{edges[0] + 10 + 180 * i}" y="{height - 2}" font-size="13" fill="{colour}">'
            f"■ {escape(name)} {escape(_wan(final))}{unit}</text>"
        )
    return parts


def thresholds(
    title: str, value: Decimal, marks: Sequence[tuple[str, Decimal]], *, label: str
) -> Markup:
    """One rate against its lines (warning, suspension, ceiling) on a 0 → max scale."""
    width, height, left, bar_w = 640, 136, 10, 600
    top = max([value, *[m for _, m in marks]]) * Decimal("1.25") or Decimal("0.01")

    def x(rate: Decimal) -> float:
        return left + bar_w * float(rate / top)

    colour = "#c62828" if marks and value >= marks[-1][1] else "#0b5cad"
    for name, mark in marks:
        if name.startswith("预警") and value >= mark:
            colour = "#b26a00"
    for name, mark in marks:
        if name.startswith("暂停") and value >= mark:
            colour = "#c62828"
    parts = [
        f'<rect x="{left}" y="40" width="{bar_w}" height="22" fill="#e6ebf1" rx="3"/>',
        f'<rect x="{left}" y="40" width="{x(value) - left:.1f}" height="22" '
        f'fill="{colour}" rx="3"/>',
        f'<text x="{left}" y="28" font-size="14">{escape(label)} {_pct(value)}</text>',
        # The scale, said: every bar and line here is measured on it.
        f'<text x="{left}" y="{height - 2}" font-size="12" fill="#5f6b7a">0%</text>',
        f'<text x="{left + bar_w}" y="{height - 2}" font-size="12" fill="#5f6b7a" '
        f'text-anchor="end">{_pct(top)}</text>',
    ]
    for i, (name, mark) in enumerate(marks):
        mx = x(mark)
        parts.append(
            f'<line x1="{mx:.1f}" y1="34" x2="{mx:.1f}" y2="68" stroke="#1f2933" '
            'stroke-dasharray="3 3"/>'
            f'<text x="{mx - 30:.1f}" y="{84 + 16 * (i % 2)}" font-size="12">'
            f"{escape(name)} {_pct(mark)}</text>"
        )
    return _svg(width, height, title, "".join(parts))


def _wan(amount: Decimal) -> str:
    """Yuan as 万元 with two decimals: 1500000 → 150.00."""
    return f"{Decimal(amount) / 10000:,.2f}"


def _pct(rate: Decimal) -> str:
    return f"{Decimal(rate) * 100:.2f}%"
