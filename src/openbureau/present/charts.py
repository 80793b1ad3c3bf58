"""Charts as inline SVG and tables as HTML, for self-contained pages: no scripts, no CDN, nothing fetched."""

from __future__ import annotations

from html import escape


def bar_chart(title: str, bars: list[tuple[str, float | None, str]], *, maximum: float | None = None,
              fmt: str = "{:.2f}", width: int = 640) -> str:
    """A horizontal bar chart as an SVG element: one (label, value, colour) per bar; None draws no bar."""
    row, left, right = 24, 110, 80
    top = max([v for _, v, _ in bars if v is not None] or [0.0])
    scale = (maximum or top or 1.0)
    height = 30 + row * len(bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>']
    for i, (label, value, colour) in enumerate(bars):
        y = 26 + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" font-size="12" fill="#666">suppressed / n.a.</text>')
            continue
        w = max(0.0, (width - left - right) * value / scale)
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{escape(fmt.format(value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table of text cells (escaped)."""
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def line_chart(title: str, series: list[tuple[str, list[tuple[float, float]], str]], *, x_label: str,
               y_label: str, x_range: tuple[float, float] = (0.0, 1.0), y_range: tuple[float, float] = (0.0, 1.0),
               diagonal: bool = False, width: int = 420, height: int = 320) -> str:
    """A line chart as an SVG element: one (name, points, colour) per series; ``diagonal`` draws y = x."""
    left, bottom, top, right = 48, 36, 26, 12
    w, h = width - left - right, height - top - bottom
    (x0, x1), (y0, y1) = x_range, y_range

    def px(x: float, y: float) -> str:
        return f"{left + w * (x - x0) / ((x1 - x0) or 1):.1f},{top + h * (1 - (y - y0) / ((y1 - y0) or 1)):.1f}"

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
             f'<text x="{left + w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">{escape(x_label)}</text>',
             f'<text x="12" y="{top + h / 2}" font-size="11" text-anchor="middle" '
             f'transform="rotate(-90 12 {top + h / 2})">{escape(y_label)}</text>']
    for k in range(5):
        x, y = x0 + (x1 - x0) * k / 4, y0 + (y1 - y0) * k / 4
        parts.append(f'<text x="{px(x, y0).split(",")[0]}" y="{top + h + 13}" font-size="10" '
                     f'text-anchor="middle">{x:.3g}</text>')
        parts.append(f'<text x="{left - 4}" y="{float(px(x0, y).split(",")[1]) + 3:.1f}" font-size="10" '
                     f'text-anchor="end">{y:.3g}</text>')
    if diagonal:
        parts.append(f'<polyline points="{px(x0, y0)} {px(x1, y1)}" fill="none" stroke="#bbb" stroke-dasharray="4"/>')
    for i, (name, points, colour) in enumerate(series):
        parts.append(f'<polyline points="{" ".join(px(x, y) for x, y in points)}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"/>')
        parts.append(f'<text x="{left + 8}" y="{top + 14 + 14 * i}" font-size="11" fill="{colour}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


PALETTE = ("#0b5394", "#e69138", "#38761d", "#990000", "#674ea7", "#45818e", "#bf9000", "#741b47")


def period_chart(title: str, periods: list[str], series: list[tuple[str, list[float | None]]], *,
                 fmt: str = "{:.0%}", width: int = 560, height: int = 260) -> str:
    """Values over reporting periods as an SVG line chart: one (name, values by period) per series, coloured from
    :data:`PALETTE` and named in a legend; a None (a suppressed cell) leaves a gap."""
    left, right, top, bottom = 56, 28, 28, 40 + 16 * ((len(series) + 2) // 3)
    w, h = width - left - right, height - top - bottom
    values = [v for _, vs in series for v in vs if v is not None]
    y1 = max(values or [1.0]) or 1.0
    step = w / max(len(periods) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + step * i, top + h * (1 - v / y1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>']
    for k in range(3):
        v = y1 * k / 2
        parts.append(f'<text x="{left - 4}" y="{xy(0, v)[1] + 4:.1f}" font-size="10" text-anchor="end">'
                     f'{escape(fmt.format(v))}</text>')
    for i, period in enumerate(periods):
        if len(periods) <= 8 or i % 2 == 0 or i == len(periods) - 1:
            parts.append(f'<text x="{xy(i, 0)[0]:.1f}" y="{top + h + 13}" font-size="10" text-anchor="middle">'
                         f'{escape(period)}</text>')
    for n, (name, vs) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, v in enumerate(vs):
            if v is None:
                runs.append([])
                continue
            x, y = xy(i, v)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        parts.extend(f'<polyline points="{" ".join(r)}" fill="none" stroke="{colour}" stroke-width="2"/>'
                     for r in runs if len(r) > 1)
        lx, ly = left + (n % 3) * (w / 3), top + h + 30 + 16 * (n // 3)
        parts.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{lx + 14:.1f}" y="{ly}" font-size="11">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)
