"""Inline SVG charts drawn from numbers only (the page forbids scripts).

`share_chart`: one entity's share of each stream over the periods, with dated axes, the
first / last / highest values written on the line, a 90% band per period (Wilson) and
the active window shaded; periods a stream does not cover are left blank, not drawn as
zero. `overview_chart`: every ranked field in a direction × tier grid, a bar for its
score and its share ratio beside it, each linking to the field's section.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from scanner.report.labels import (
    direction_name,
    pick,
    ratio_figure,
    share_direction,
    stage_name,
    stream_name,
)
from scanner.report.textfit import ellipsize, text_width, wrap
from scanner.signals.indicators import thirds

COLOURS = {"paper": "#1f6feb", "news": "#bf3989", "policy": "#1a7f37"}
Z90 = 1.645


def wilson(count: float, total: float, z: float = Z90) -> tuple[float, float]:
    """The Wilson interval of a share count / total."""
    if total <= 0:
        return 0.0, 0.0
    p = count / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def _pct(value: float) -> str:
    pct = value * 100
    return f"{pct:.0f}%" if pct >= 10 else f"{pct:.1f}%" if pct >= 1 else f"{pct:.2f}%"


def _stream_points(row: dict[str, Any], n: int) -> dict[str, list[tuple[int, float, float, float]]]:
    """Per stream: (period index, share, low, high) where the stream has a total."""
    out: dict[str, list[tuple[int, float, float, float]]] = {}
    for kind, s in (row["indicators"].get("streams") or {}).items():
        first = int(s.get("first_period") or 0)
        points = []
        for i, (c, t) in enumerate(zip(s.get("series") or [], s.get("totals") or [],
                                       strict=False)):
            if t and first + i < n:
                low, high = wilson(float(c), float(t))
                points.append((first + i, float(c) / t, low, high))
        if points and any(p[1] > 0 for p in points):
            out[kind] = points
    return out


def share_chart(row: dict[str, Any], lang: str, width: int = 380, height: int = 150) -> str:
    """The share-over-time chart of one ranked row; '' when it has no periods."""
    ind = row["indicators"]
    periods = [str(p) for p in ind.get("periods") or []]
    n = len(periods)
    streams = _stream_points(row, n)
    if not streams:
        return ""
    # the chart starts at the first period any stream has items in: no blank lead-in
    i0 = min(pts[0][0] for pts in streams.values())
    streams = {k: [(i - i0, v, lo, hi) for i, v, lo, hi in pts] for k, pts in streams.items()}
    periods, n = periods[i0:], n - i0
    if n < 2:
        return ""
    left, right, top, bottom = 44, 36, 22, 32
    w, h = width - left - right, height - top - bottom
    peak = max(max(p[3] for p in pts) for pts in streams.values()) or 1.0
    peak = _nice(peak)

    def x(i: int) -> float:
        return left + w * i / (n - 1)

    def y(v: float) -> float:
        return top + h * (1 - v / peak)

    title = pick(("占比趋势", "share over time"), lang)
    parts = [f'<svg class="chart share" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{escape(title)}</title>']
    used = [k for k in ind.get("streams_used") or [] if k in streams] or list(streams)
    own_first = int((ind.get("streams") or {}).get(used[0], {}).get("first_period") or 0)
    first_used = max(own_first - i0, 0)
    _, active = thirds(n + i0 - own_first)
    a0 = x(first_used + active.start) if first_used + active.start < n else x(n - 1)
    parts.append(f'<rect x="{a0:.1f}" y="{top}" width="{left + w - a0:.1f}" height="{h}" '
                 'fill="#f6f8fa"/>')
    parts.append(f'<text class="window" x="{a0 + 3:.1f}" y="{top + h - 3}" font-size="8" '
                 f'fill="#57606a">{escape(pick(("活跃期", "active window"), lang))}</text>')
    for frac in (0.0, 0.5, 1.0):
        yy = y(peak * frac)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{yy:.1f}" y2="{yy:.1f}" '
                     'stroke="#d0d7de" stroke-width="0.5"/>')
        parts.append(f'<text class="axis-y tick" x="{left - 4}" y="{yy + 3:.1f}" '
                     f'font-size="9" text-anchor="end">{_pct(peak * frac)}</text>')
    step = max(1, math.ceil(n / 5))
    ticks = list(range(0, n, step))
    if n - 1 - ticks[-1] >= step or len(ticks) == 1:
        ticks.append(n - 1)  # the last period is always dated, never crowding another
    elif ticks[-1] != n - 1:
        ticks[-1] = n - 1
    for i in ticks:
        anchor = "start" if i == 0 else "end" if i == n - 1 else "middle"
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + h}" '
                     f'y2="{top + h + 3}" stroke="#57606a" stroke-width="0.6"/>'
                     f'<text class="axis-x tick" x="{x(i):.1f}" y="{top + h + 12}" '
                     f'font-size="9" text-anchor="{anchor}">{escape(periods[i])}</text>')
    parts.append(f'<text class="axis-x label" x="{left + w / 2:.1f}" y="{height - 4}" '
                 f'font-size="9" text-anchor="middle" fill="#57606a">'
                 f'{escape(pick(("统计期", "period"), lang))}</text>')
    parts.append(f'<text class="axis-y label" x="10" y="{top + h / 2:.1f}" font-size="9" '
                 f'text-anchor="middle" fill="#57606a" transform="rotate(-90 10 '
                 f'{top + h / 2:.1f})">{escape(pick(("占比", "share"), lang))}</text>')
    for kind, pts in streams.items():
        colour = COLOURS.get(kind, "#57606a")
        for run in _runs(pts):
            band = [f"{x(i):.1f},{y(hi):.1f}" for i, _, _, hi in run] + \
                   [f"{x(i):.1f},{y(lo):.1f}" for i, _, lo, _ in reversed(run)]
            parts.append(f'<polygon class="band" points="{" ".join(band)}" fill="{colour}" '
                         'fill-opacity="0.15" stroke="none"/>')
            line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v, _, _ in run)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                         'stroke-width="1.8"/>')
            for i, v, _, _ in run:
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="1.8" '
                             f'fill="{colour}"/>')
        peak_i, peak_v = max(((i, v) for i, v, _, _ in pts), key=lambda p: p[1])
        if peak_i != pts[-1][0] and peak_v > 1.3 * pts[-1][1]:
            parts.append(f'<text class="value" x="{x(peak_i):.1f}" y="{y(peak_v) - 4:.1f}" '
                         f'font-size="8.5" text-anchor="middle" fill="{colour}">'
                         f'{_pct(peak_v)}</text>')
    # each stream's last value at the right edge, spread so that none covers another
    ends = sorted(((y(pts[-1][1]), kind, pts[-1][1]) for kind, pts in streams.items()),
                  key=lambda e: e[0])
    last_y = -100.0
    for yy, kind, value in ends:
        yy = max(yy + 3, last_y + 10)
        last_y = yy
        parts.append(f'<text class="value" x="{left + w + 3}" y="{yy:.1f}" font-size="8.5" '
                     f'fill="{COLOURS.get(kind, "#57606a")}">{_pct(value)}</text>')
    legend_x = left
    for kind in streams:
        name = stream_name(kind, lang)
        parts.append(f'<rect x="{legend_x}" y="6" width="10" height="3" '
                     f'fill="{COLOURS.get(kind, "#57606a")}"/><text x="{legend_x + 13}" '
                     f'y="10" font-size="9">{escape(name)}</text>')
        legend_x += 20 + 6 * len(name) * (2 if lang != "en" else 1)
    parts.append(f'<text x="{left + w}" y="10" font-size="8.5" text-anchor="end" '
                 'fill="#57606a">'
                 f'{escape(pick(("色带：每期 90% 区间", "band: 90% per period"), lang))}'
                 '</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(points: list[tuple[int, float, float, float]]
          ) -> list[list[tuple[int, float, float, float]]]:
    """Consecutive periods as separate runs, so a gap is not drawn across."""
    runs: list[list[tuple[int, float, float, float]]] = []
    for p in points:
        if runs and p[0] == runs[-1][-1][0] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def _nice(value: float) -> float:
    """A round axis maximum at or above value."""
    exponent = math.floor(math.log10(value)) if value > 0 else 0
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exponent >= value:
            return m * 10 ** exponent
    return 10 ** (exponent + 1)


def ratio_text(ind: dict[str, Any], lang: str, interval: bool = False) -> str:
    """A field's share ratio for the overview: "x1.4" where its 90% interval lies wholly
    above or below 1, else "unclear" ("不明确"), since a ratio of 5.0 whose interval is
    0.46-54 is noise that would read as a strong rise; `interval` adds the interval."""
    growth = float(ind.get("growth") or 0)
    low, high = ind.get("growth_low"), ind.get("growth_high")
    clear = share_direction(ind) != "unclear"
    text = ratio_figure(growth) if clear else pick(("不明确", "unclear"), lang)
    if interval and low is not None and high is not None:
        text += f" (x{growth:.2f}, 90%: {float(low):.2f}–{float(high):.2f})"
    return text


def overview_chart(data: dict[str, Any], lang: str, width: int = 1100) -> str:
    """Ranked fields by direction (rows) and tier (columns): score bar, share ratio.

    Every text is measured (scanner.report.textfit, on the wide side) and kept inside its
    cell: a field's label wraps onto a second line and is shortened with '…' beyond it,
    the full label in the link's tooltip.
    """
    tiers = list(data.get("tiers") or {})
    if not tiers:
        return ""
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for direction, fields in (data.get("fields_by_direction") or {}).items():
        for f in fields:
            tier = f["indicators"].get("tier") or ""  # "": the documents give no tier
            rows.setdefault(direction, {}).setdefault(tier, []).append(f)
    if any("" in cells for cells in rows.values()):
        tiers.append("")
    if not rows:
        return ""
    one = "en" if lang == "en" else "zh"  # one language per label: both would not fit a cell
    head, label_w, size, step, pad = 30, 150, 11.5, 14, 6
    col_w = (width - label_w) / len(tiers)
    bar_max, room = 48, col_w - pad - 48 - 4 - 4  # the text's room right of the bar
    cells_out: dict[str, dict[str, list[tuple[dict[str, Any], list[str], str]]]] = {}
    for direction, cells in rows.items():
        for tier, fields in cells.items():
            for f in fields:
                ind = f["indicators"]
                name = str(ind.get(f"name_{one}") or f["entity_id"])
                figures = f"{f['score']:.2f} · {ratio_text(ind, one)}"
                full = f"{name} · {f['score']:.2f} · {ratio_text(ind, one, interval=True)}"
                # the name in up to two lines, the figures after it or on a line of their own
                lines = wrap(name, size, [room, room])
                if text_width(f"{lines[-1]} · {figures}", size) <= room:
                    lines[-1] = f"{lines[-1]} · {figures}"
                else:
                    lines.append(figures)
                cells_out.setdefault(direction, {}).setdefault(tier, []).append(
                    (f, lines, full))
    names = {d: wrap(direction_name(d, data, one), 12, [label_w - 2 * pad] * 2, bold=True)
             for d in rows}
    heights = {d: max([sum(len(lines) * step + 5 for _, lines, _ in cell)
                       for cell in cells.values()] + [len(names[d]) * 15]) + 10
               for d, cells in cells_out.items()}
    legend = wrap(pick(("条长 = 得分；x = 占比倍数（仅在 90% 区间不含 1 时写出）；"
                        "绿 = 上升（90% 区间高于 1），红 = 下降，灰 = 不明确",
                        "bar = score; x = share ratio (written only where its 90% band "
                        "excludes 1); green = rising (90% band above 1), red = falling, "
                        "grey = unclear"), one), 10, [width - 2 * pad] * 2)
    height = head + sum(heights.values()) + 8 + 13 * len(legend)
    parts = [f'<svg class="chart overview" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
             f'<title>{escape(pick(("领域总览", "field overview"), lang))}</title>']
    for j, tier in enumerate(tiers):
        title = ellipsize(stage_name(tier, data, one), 12, col_w - 2 * pad, bold=True)
        parts.append(f'<text class="axis-x label" x="{label_w + col_w * j + pad:.0f}" y="18" '
                     f'font-size="12" font-weight="bold">{escape(title)}</text>')
    yy = head
    for direction, cells in cells_out.items():
        hgt = heights[direction]
        parts.append(f'<rect x="0" y="{yy}" width="{width}" height="{hgt}" fill="'
                     f'{"#f6f8fa" if (yy // 2) % 2 else "#ffffff"}" stroke="#d0d7de" '
                     'stroke-width="0.5"/>')
        for n, line in enumerate(names[direction]):
            parts.append(f'<text class="axis-y label" x="{pad}" y="{yy + 16 + 15 * n}" '
                         f'font-size="12" font-weight="bold">{escape(line)}</text>')
        for j, tier in enumerate(tiers):
            x0 = label_w + col_w * j + pad
            y0 = yy + 8
            for f, lines, full in cells.get(tier, []):
                ind = f["indicators"]
                bar = max(2.0, bar_max * min(float(f["score"]), 1.0))
                colour = {"rising": "#1a7f37", "falling": "#cf222e"}.get(
                    share_direction(ind), "#8c959f")
                texts = "".join(
                    f'<text class="field" x="{x0 + bar_max + 4:.0f}" y="{y0 + 10 + step * n}" '
                    f'font-size="{size}">{escape(line)}</text>' for n, line in enumerate(lines))
                parts.append(f'<a href="#fields-{escape(f["entity_id"])}">'
                             f'<title>{escape(full)}</title>'
                             f'<rect x="{x0:.0f}" y="{y0}" width="{bar:.0f}" height="12" '
                             f'fill="{colour}" fill-opacity="0.75"/>{texts}</a>')
                y0 += len(lines) * step + 5
        yy += hgt
    for n, line in enumerate(legend):
        parts.append(f'<text x="{pad}" y="{yy + 16 + 13 * n}" font-size="10" '
                     f'fill="#57606a">{escape(line)}</text>')
    parts.append("</svg>")
    return "".join(parts)
