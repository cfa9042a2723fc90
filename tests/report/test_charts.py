"""Chart text stays inside its chart and its cell: estimated, and measured in Chromium."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from scanner.config import load_config
from scanner.report import build_report
from scanner.report.charts import overview_chart, share_chart
from scanner.report.textfit import text_width, wrap
from scanner.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy(load_config(environ={}).taxonomy_file)
_TEXT = re.compile(r"<text([^>]*)>(.*?)</text>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def _all_fields(data: dict[str, Any], long_names: bool = False) -> dict[str, Any]:
    """The report's data with every taxonomy field ranked (a 23-field store's overview);
    `long_names`: names far wider than a cell, one without any space."""
    template = next(r for rows in data["fields_by_direction"].values() for r in rows)
    out: dict[str, dict[str, list]] = {}
    for n, f in enumerate(TAXONOMY.active_fields):
        row = copy.deepcopy(template)
        en, zh = f.en, f.zh
        if long_names and n % 3 == 0:
            en, zh = f"{en} and {en} with {en}", zh * 8
        if long_names and n % 3 == 1:
            en = "W" * 60
        row.update(entity_id=f.id, score=1.0 - 0.04 * n)
        row["indicators"].update(name_en=en, name_zh=zh, tier=f.tier, growth=0.5 + 0.7 * n)
        out.setdefault(f.direction, []).append(row)
    return {**data, "fields_by_direction": out}


@pytest.fixture(scope="module")
def report_data(report_store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = report_store(tmp_path_factory.mktemp("charts") / "s.db")
    data = build_report(store, TAXONOMY)
    store.close()
    return data


def _charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, svg) of the overview in every language, normal and long names, and the
    share charts of the ranked fields and topics."""
    out = [(f"overview-{lang}-{long}", overview_chart(_all_fields(data, long), lang))
           for lang in ("en", "zh", "both") for long in (False, True)]
    out += [(f"share-{row['entity_id']}-{lang}", share_chart(row, lang))
            for name in ("fields", "topics") for row in data["lists"][name][:4]
            for lang in ("en", "zh")]
    return [(name, svg) for name, svg in out if svg]


def _boxes(svg: str) -> tuple[float, float, list[dict[str, Any]]]:
    """The viewBox size and every text's estimated box (x0, x1, y0, y1)."""
    width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    boxes = []
    for attributes, content in _TEXT.findall(svg):
        a = dict(_ATTR.findall(attributes))
        size, text = float(a.get("font-size", 16)), unescape(content)
        w = text_width(text, size, a.get("font-weight") == "bold")
        x, y = float(a["x"]), float(a["y"])
        if "rotate(-90" in a.get("transform", ""):  # vertical, centred on y
            boxes.append({"text": text, "box": (x - size, x, y - w / 2, y + w / 2), **a})
            continue
        anchor = a.get("text-anchor", "start")
        x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        boxes.append({"text": text, "box": (x0, x0 + w, y - 0.95 * size, y + 0.25 * size),
                      **a})
    return width, height, boxes


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]


def test_every_chart_text_lies_inside_its_chart(report_data: dict[str, Any]) -> None:
    charts = _charts(report_data)
    assert any(n.startswith("overview") for n, _ in charts)
    assert any(n.startswith("share") for n, _ in charts)
    for name, svg in charts:
        width, height, boxes = _boxes(svg)
        for b in boxes:
            x0, x1, y0, y1 = b["box"]
            assert x0 >= 0 and x1 <= width and y0 >= 0 and y1 <= height, (name, b["text"])


def test_overview_labels_stay_in_their_cells_and_keep_the_full_name(
        report_data: dict[str, Any]) -> None:
    for lang in ("en", "zh"):
        for long in (False, True):
            data = _all_fields(report_data, long)
            svg = overview_chart(data, lang)
            _, _, boxes = _boxes(svg)
            fields = [b for b in boxes if b.get("class") == "field"]
            assert len(fields) >= len(TAXONOMY.active_fields)
            bars = [(float(x), float(x) + float(w), float(y), float(y) + 12) for x, y, w in
                    re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" '
                               r'height="12"', svg)]
            others = [b for b in boxes if b.get("class") != "field"]
            for n, b in enumerate(fields):
                hit = [bar for bar in bars if _overlap(b["box"], bar)]
                assert not hit, (b["text"], b["box"], hit)
                hit = [o for o in others if _overlap(b["box"], o["box"])]
                assert not hit, (b["text"], b["box"], hit)
                assert not any(_overlap(b["box"], c["box"]) for c in fields[n + 1:]), b["text"]
            # a shortened label keeps the whole name in its tooltip
            names = [row["indicators"][f"name_{lang}"] for rows in
                     data["fields_by_direction"].values() for row in rows]
            titles = [unescape(t) for t in re.findall(r"<a [^>]*><title>(.*?)</title>", svg)]
            missing = [n for n in names if not any(t.startswith(n + " · ") for t in titles)]
            assert not missing, (lang, long, missing, titles[:3])
            if long:
                assert any("…" in b["text"] for b in fields)


def test_wrap_breaks_at_spaces_and_shortens_only_what_does_not_fit() -> None:
    assert wrap("Brain-computer interfaces", 11.5, [200, 200]) == ["Brain-computer interfaces"]
    lines = wrap("Brain-computer interfaces", 11.5, [110, 110])
    assert lines == ["Brain-computer", "interfaces"]
    cut = wrap("W" * 40, 11.5, [100, 100])
    assert len(cut) == 1 and cut[0].endswith("…") and text_width(cut[0], 11.5) <= 100
    zh = wrap("脑机接口与神经调控技术", 12, [50, 50])
    assert zh[0] == "脑机接口" and zh[-1].endswith("…")


_MEASURE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
svg.chart text { font-family: system-ui, "Noto Sans CJK SC", sans-serif; }</style></head>
<body>%s<pre id="out"></pre><script>
const out = [];
document.querySelectorAll("svg").forEach((svg, i) => {
  const vb = svg.viewBox.baseVal;
  svg.querySelectorAll("text").forEach(t => {
    const b = t.getBBox();  // in the text's own coordinates: apply its rotation
    const m = t.transform.baseVal.consolidate();
    const c = [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height],
               [b.x + b.width, b.y + b.height]].map(([x, y]) => m ?
      [m.matrix.a * x + m.matrix.c * y + m.matrix.e,
       m.matrix.b * x + m.matrix.d * y + m.matrix.f] : [x, y]);
    const xs = c.map(p => p[0]), ys = c.map(p => p[1]);
    out.push({chart: i, text: t.textContent, x0: Math.min(...xs), x1: Math.max(...xs),
              y0: Math.min(...ys), y1: Math.max(...ys), w: t.getComputedTextLength(),
              vw: vb.width, vh: vb.height});
  });
});
document.getElementById("out").textContent = JSON.stringify(out);
</script></body></html>"""


def test_chart_text_measured_in_chromium_fits_and_is_narrower_than_estimated(
        report_data: dict[str, Any], tmp_path: Path) -> None:
    """Needs Debian's chromium (`apt-get install chromium fonts-noto-cjk`)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    charts = _charts(report_data)
    page = tmp_path / "charts.html"
    page.write_text(_MEASURE % "".join(svg for _, svg in charts), encoding="utf-8")
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False).stdout
    measured = json.loads(unescape(re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)[1]))
    estimated = [b for _, svg in charts for b in _boxes(svg)[2]]
    assert len(measured) == len(estimated) > 100
    for m, e in zip(measured, estimated, strict=True):
        assert m["text"] == e["text"]
        where = (charts[m["chart"]][0], m["text"])
        assert m["w"] <= text_width(m["text"], float(e.get("font-size", 16)),
                                    e.get("font-weight") == "bold") + 0.5, where
        assert m["x0"] >= -0.5 and m["x1"] <= m["vw"] + 0.5, where
        assert m["y0"] >= -0.5 and m["y1"] <= m["vh"] + 0.5, where


def test_overview_writes_a_share_ratio_only_where_its_interval_excludes_one(
        report_data: dict[str, Any]) -> None:
    data = _all_fields(report_data)
    rows = [r for rows in data["fields_by_direction"].values() for r in rows]
    noisy, riser, faller = rows[0], rows[1], rows[2]
    noisy["indicators"].update(growth=5.0, growth_low=0.46, growth_high=54.0)
    riser["indicators"].update(growth=1.4, growth_low=1.06, growth_high=1.81)
    faller["indicators"].update(growth=0.6, growth_low=0.45, growth_high=0.86)
    for lang, unclear in (("en", "unclear"), ("zh", "不明确")):
        svg = unescape(overview_chart(data, lang))
        titles = dict(re.findall(r'<a href="#fields-([^"]+)"><title>(.*?)</title>', svg))
        cells = {m: " ".join(re.findall(r'<text class="field"[^>]*>(.*?)</text>', body))
                 for m, body in re.findall(r'<a href="#fields-([^"]+)">(.*?)</a>', svg)}
        assert "x5.0" not in cells[noisy["entity_id"]] and unclear in cells[noisy["entity_id"]]
        assert "90%: 0.46–54.00" in titles[noisy["entity_id"]]  # the tooltip keeps it
        assert "x1.4" in cells[riser["entity_id"]] and "x0.6" in cells[faller["entity_id"]]


def test_one_ratio_figure_and_one_direction_test_for_the_whole_report() -> None:
    from scanner.report.labels import ratio_figure, share_direction

    # a fall that rounds to 1 keeps a decimal more, as does a rise (x1.00 in red misled)
    assert [ratio_figure(x) for x in (0.996, 0.05, 0.67, 1.04, 1.38, 12.3)] == \
        ["x0.996", "x0.05", "x0.67", "x1.04", "x1.4", "x12.3"]
    assert share_direction({"growth_low": 1.06, "growth_high": 1.8}) == "rising"
    assert share_direction({"growth_low": 0.4, "growth_high": 0.9}) == "falling"
    assert share_direction({"growth_low": 0.46, "growth_high": 54.0}) == "unclear"
    assert share_direction({}) == "unclear"
