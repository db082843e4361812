"""Charts drawn on the server as inline SVG (no script, no style attribute).

Each function takes plain labels and numbers and returns markup that scales
to its container; colours are presentation attributes, so the page's CSP
(``style-src 'self'``) holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from resguardo.domain.codes import FirearmStatus

_CHOSEN = {
    "in_storage": "#2e8b57",
    "issued": "#2a6f97",
    "in_repair": "#d39e00",
    "in_transit": "#f4a259",
    "lost": "#c0392b",
    "stolen": "#7b1e16",
    "decommissioned": "#98a2ad",
    "held_as_evidence": "#6c4f9c",
}
PALETTE = ("#2a6f97", "#2e8b57", "#d39e00", "#c0392b", "#6c4f9c", "#3aa6a6", "#98a2ad")
#: Every status of the domain has a colour: the chosen one, else one of the palette.
STATUS_COLOURS = {status.value: _CHOSEN.get(status.value, PALETTE[i % len(PALETTE)])
                  for i, status in enumerate(FirearmStatus)}

Fmt = Callable[[float], str]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return top
    return value


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    # width and height give the natural size: the chart shrinks on a phone, never grows
    return Markup(
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>")


def swatch(colour: str) -> Markup:
    return Markup(f'<svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
                  f'rx="2" fill="{escape(colour)}"/></svg>')


def stacked_bars(rows: Sequence[tuple[str, dict[str, int]]], order: Sequence[str],
                 colours: dict[str, str], label: str, fmt: Fmt,
                 names: dict[str, str] | None = None) -> Markup:
    """One horizontal bar per row, split by key (e.g. agencies by weapon status)."""
    width, label_w, bar_h, gap = 900, 270, 22, 10
    total_max = max((sum(parts.values()) for _, parts in rows), default=0)
    top = _nice_max(total_max)
    plot_w = width - label_w - 60
    height = max(1, len(rows)) * (bar_h + gap) + 24
    body = []
    for i, (name, parts) in enumerate(rows):
        y = i * (bar_h + gap) + 4
        short = name if len(name) <= 40 else name[:39] + "…"
        body.append(f'<text x="{label_w - 8}" y="{y + bar_h * 0.7:.1f}" text-anchor="end">'
                    f"{escape(short)}</text>")
        x = float(label_w)
        for key in order:
            value = parts.get(key, 0)
            if not value:
                continue
            w = plot_w * value / top
            tip = f"{name}: {(names or {}).get(key, key)} {fmt(value)}"
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" '
                        f'fill="{colours.get(key, "#999")}"><title>{escape(tip)}</title></rect>')
            x += w
        body.append(f'<text class="val" x="{x + 6:.1f}" y="{y + bar_h * 0.7:.1f}">'
                    f"{escape(fmt(sum(parts.values())))}</text>")
    axis_y = len(rows) * (bar_h + gap)
    body.append(f'<line class="axis" x1="{label_w}" y1="0" x2="{label_w}" y2="{axis_y}"/>')
    return _svg(width, height, label, body)


def columns(points: Sequence[tuple[str, int]], label: str, fmt: Fmt,
            colour: str = "#c0392b", sublabels: Sequence[str] | None = None) -> Markup:
    """Vertical bars over time (e.g. losses per month); ``sublabels`` go under the labels."""
    width, height, left, bottom, top_pad = 640, 230, 36, 40, 14
    n = max(1, len(points))
    top = _nice_max(max((v for _, v in points), default=0))
    plot_h = height - bottom - top_pad
    plot_w = width - left - 8
    slot = plot_w / n
    body = []
    for step in range(0, 5):
        value = top * step / 4
        y = top_pad + plot_h - plot_h * step / 4
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}"/>')
        if value == int(value):
            body.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                        f"{escape(fmt(int(value)))}</text>")
    for i, (name, value) in enumerate(points):
        h = plot_h * value / top
        x = left + i * slot + slot * 0.18
        y = top_pad + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.64:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(name)}: {escape(fmt(value))}</title></rect>')
        if value:
            body.append(f'<text class="val" x="{x + slot * 0.32:.1f}" y="{y - 3:.1f}" '
                        f'text-anchor="middle">{escape(fmt(value))}</text>')
        if n <= 12 or i % 2 == 0:
            body.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}" '
                        f'text-anchor="middle">{escape(name)}</text>')
        if sublabels and sublabels[i]:
            body.append(f'<text class="year" x="{left + i * slot + slot / 2:.1f}" '
                        f'y="{height - bottom + 30}" text-anchor="middle">'
                        f"{escape(sublabels[i])}</text>")
    body.append(f'<line class="axis" x1="{left}" y1="{top_pad + plot_h}" x2="{width - 8}" '
                f'y2="{top_pad + plot_h}"/>')
    return _svg(width, height, label, body)


def donut(parts: Sequence[tuple[str, int, str]], label: str, centre: str) -> Markup:
    """Shares of a whole (name, value, colour), with a figure in the middle."""
    import math

    size, r, stroke = 180, 66, 26
    total = sum(v for _, v, _ in parts)
    body = [f'<circle cx="{size / 2}" cy="{size / 2}" r="{r}" fill="none" stroke="#eceff3" '
            f'stroke-width="{stroke}"/>']
    circumference = 2 * math.pi * r
    offset = 0.0
    for name, value, colour in parts:
        if not value or not total:
            continue
        length = circumference * value / total
        body.append(
            f'<circle cx="{size / 2}" cy="{size / 2}" r="{r}" fill="none" stroke="{colour}" '
            f'stroke-width="{stroke}" stroke-dasharray="{length:.2f} {circumference - length:.2f}" '
            f'stroke-dashoffset="{-offset:.2f}" transform="rotate(-90 {size / 2} {size / 2})">'
            f"<title>{escape(name)}: {value}</title></circle>")
        offset += length
    body.append(f'<text x="{size / 2}" y="{size / 2 + 9}" text-anchor="middle" class="big">'
                f"{escape(centre)}</text>")
    return _svg(size, size, label, body)
