"""Term windows fitted to a young stream's history (scanner.terms.windows), through the
terms stage and the report."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli
from scanner.config import TermSettings
from scanner.terms.counts import month_range, months_between
from scanner.terms.service import oldest_months
from scanner.terms.windows import fit_window, full_span, least_months, months_needed
from tests.support.terms import import_corpus


def test_the_configured_window_is_kept_when_the_history_fills_it() -> None:
    settings = TermSettings()
    assert full_span(settings) == 36  # quarters: 8 active and 4 base periods
    fitted = fit_window(settings, 36)
    assert fitted is not None and fitted.settings == settings and fitted.note == ""
    # with 27-35 months the configured window has a base of 1-3 quarters, the fitted
    # one a larger monthly base: the fitted one is kept until the whole span fits
    assert fit_window(settings, 27).settings.base_periods == 8
    assert fit_window(settings, 35).settings.base_periods == 10
    off = replace(settings, fit_window=False)
    assert months_needed(off) == 27 and fit_window(off, 27).settings == off


def test_a_young_stream_gets_monthly_windows_over_its_history() -> None:
    fitted = fit_window(TermSettings(), 7)
    assert fitted is not None
    s = fitted.settings
    # 30% of 7 months the base, the rest active; persistence keeps its fraction (4 of 8)
    assert (s.period_months, s.base_periods, s.active_periods, s.min_active_periods) == \
        (1, 2, 5, 3)
    assert s.min_active_df == TermSettings().min_active_df  # other criteria as configured
    assert fitted.note.startswith("monthly windows: 5 active months after a 2-month base")
    long = fit_window(TermSettings(), 26).settings
    assert long.active_periods + long.base_periods == 26 and long.period_months == 1


def test_too_short_a_history_or_fitting_switched_off_gives_no_window() -> None:
    assert fit_window(TermSettings(), 5) is None  # 2 base + 3 active: under 4 active months
    assert fit_window(TermSettings(), 6) is not None and least_months(TermSettings()) == 6
    assert fit_window(replace(TermSettings(), fit_window=False), 20) is None
    # a configured window shorter than any fitted one: its own length is the least
    short = replace(TermSettings(), period_months=1, active_periods=4, base_periods=1)
    assert least_months(short) == 5 and fit_window(short, 5).settings == short


def test_history_starts_at_the_streams_first_real_month_before_the_cut_off() -> None:
    totals = [("2025-03", "paper", 10), ("2025-09", "paper", 5), ("2022-09", "news", 4),
              ("2025-11", "paper", 9)]
    oldest = oldest_months(totals, "2025-10")
    assert oldest == {"paper": "2025-03", "news": "2022-09"}
    assert months_between(oldest["paper"], "2025-10") == 7
    # one stray 2021 item beside 3,000 papers a month does not make 52 months of history
    stray = [("2021-06", "paper", 1)] + [(f"2025-0{m}", "paper", 3000) for m in range(1, 9)]
    assert oldest_months(stray, "2025-09") == {"paper": "2025-01"}


def _young_corpus(path: Path) -> None:
    """Eight months of 1,000 items a month (a base of two months holds 2,000, the least
    that can judge novelty); "quantum sprocket" from nothing to 12 a month."""
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "headline", "body", "cat"])
        for k, m in enumerate(month_range("2025-01", "2025-08")):
            for j in range(1000):
                text = ". ".join(f"filler{rng.randrange(300)}" for _ in range(3))
                if k >= 2 and j < 2 * (k - 1):
                    text += ". quantum sprocket"
                writer.writerow([f"{m}-{1 + j % 28:02d}", f"Item {k} {j}", text,
                                 f"cat{rng.randrange(5)}"])


def test_a_young_store_lists_its_emerging_terms_and_says_on_which_windows(
        tmp_path: Path) -> None:
    """Before, a store with eight months of papers listed no term ("leaves no base
    period") until it held 27 months; now it is ranked on monthly windows, which the
    stage's summary names, and with fit_window off it is skipped with the reason."""
    corpus = tmp_path / "young.csv"
    _young_corpus(corpus)
    db = tmp_path / "s.db"
    runner = CliRunner()
    result = import_corpus(runner, db, corpus)
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["--db", str(db), "terms", "update", "--date", "2025-08-31"])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output, result.output
    rows = json.loads(runner.invoke(cli, ["--db", str(db), "terms", "--json"]).output)
    assert rows and rows[0]["term"] == "quantum sprocket"
    from scanner.report.build import terms_windows
    from scanner.store import Store

    with Store(db) as store:
        run = store.latest_run_for("2025-08-31")
    assert "monthly windows: 6 active months after a 2-month base" in \
        terms_windows(run)["paper"]
    assert terms_windows(run)["paper"].endswith("the configured windows need 36)")

    off = tmp_path / "off.toml"
    off.write_text(f'db_path = "{db}"\n[terms]\nfit_window = false\n', encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(off), "terms", "update", "--date",
                                 "2025-08-31"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "skipped paper: 8 months of history before the cut-off (at least 27 needed)" in out


def test_a_base_too_small_to_judge_novelty_is_not_ranked() -> None:
    """Novelty asks for a base share under 0.05%; in a base of 832 items one item is
    already 0.12%, so every word the base happens to lack would read as new (a 4,000-paper
    store listed "lowering", "united" and "failed" as its top emerging terms)."""
    from scanner.report.reasons import terms_note_text
    from scanner.terms.service import base_items
    from scanner.terms.windows import least_base_items, thin_base_reason

    settings = TermSettings()
    assert least_base_items(settings) == 2000
    reason = thin_base_reason(832, settings)
    assert reason == ("its base window holds 832 items; telling a share under 0.05% "
                      "(novelty's bound) from none needs 2000")
    assert thin_base_reason(2000, settings) == ""
    assert terms_note_text(reason, "zh") == \
        "基期仅有 832 条：要分辨占比低于 0.05%（新颖性上限）与从未出现，至少需要 2000 条"
    fitted = fit_window(settings, 7).settings  # base: the first 2 of 7 months
    totals = [("2025-03", "paper", 256), ("2025-04", "paper", 576), ("2025-05", "paper", 767),
              ("2025-04", "news", 999)]
    assert base_items(totals, "paper", "2025-10", fitted, 7) == 832
    no_bound = replace(settings, novelty_fraction=0.0)  # novelty asks for absence
    assert least_base_items(no_bound) == 0 and thin_base_reason(0, no_bound) == ""


def test_the_thin_base_check_counts_the_months_the_ranking_uses() -> None:
    """build_window keeps whole base periods only; the check once counted every month
    before the active window, so a 28-month stream passed on 4 months it never scored."""
    import numpy as np

    from scanner.terms.counts import from_counter, month_range
    from scanner.terms.emergence import build_window
    from scanner.terms.service import base_items

    settings = replace(TermSettings(), fit_window=False)
    for history in (27, 28, 29, 30, 35, 36, 40):
        months = month_range("2020-01", "2030-12")[:history]
        totals = [(m, "paper", 100) for m in months]
        cutoff = month_range(months[-1], "2031-01")[1]
        counts = from_counter(Counter({("x", months[0], "paper", "v"): 1}),
                              Counter({(m, s): n for m, s, n in totals}), "paper")
        window = build_window(counts, counts.month_index(cutoff), settings)
        used = int(np.sum(window.totals[:window.base_periods]))
        assert base_items(totals, "paper", cutoff, settings, history) == used, history
