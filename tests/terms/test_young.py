"""The young track (scanner.terms.young): terms born inside the window, with a few items."""

from __future__ import annotations

import random
from dataclasses import replace

from scanner.config import TermSettings
from scanner.terms.counts import count_items, from_counter, item_totals, month_range
from scanner.terms.emergence import rank_terms
from scanner.terms.young import interleave


def _young_counts():
    """Background items; a term born 9 months before the cut-off in three venues and
    rising (1, 2, 3 items a month), a one-venue newborn as large, a term born 18 months
    before that has had no item for 9 months, and an old term (2 items every 9 months,
    some in the base)."""
    rng = random.Random(11)
    venues = [f"v{i}" for i in range(5)]
    rows = []
    months = month_range("2016-01", "2019-12")
    cutoff = months.index("2019-10")
    for k, m in enumerate(months):
        age = k - (cutoff - 9)  # months since the newborn's first item
        for j in range(300):
            words = [f"filler{rng.randrange(300)}" for _ in range(3)]
            text = ". ".join(words)
            venue = venues[j % 5]
            if 0 <= age < 9 and j < 1 + age // 3:
                text += ". lattice sprocket"
                venue = venues[(j + age) % 3]
            if 0 <= age < 9 and 10 <= j < 11 + age // 3:
                text += ". lonely gadget"
                venue = "v4"
            if -9 <= age < 0 and j < 2:  # 18 items, none in the last 9 months
                text += ". stalled gizmo"
            if k % 9 == 0 and j < 2:
                text += ". veteran widget"
            rows.append((m, "paper", venue, None, text))
    return from_counter(count_items(rows), item_totals((r[0], r[1]) for r in rows), "paper")


def test_a_rising_newborn_is_listed_only_by_the_young_track() -> None:
    counts = _young_counts()
    off = [r["term"] for r in rank_terms(counts, "2019-10", TermSettings())]
    assert "lattice sprocket" not in off  # 3 quarters: fails persistence in 4 of 8
    ranked = rank_terms(counts, "2019-10", replace(TermSettings(), young_slots=0.25))
    young = {r["term"]: r for r in ranked if r.get("young")}
    assert "lattice sprocket" in young
    row = young["lattice sprocket"]
    assert row["base_items"] == 0 and row["active_items"] == 18 and row["venues"] >= 2
    for other in ("lonely gadget", "stalled gizmo", "veteran widget"):
        assert other not in young  # one venue; fading; present in the base


def test_interleave_spreads_the_young_share_and_skips_repeats() -> None:
    main = [{"term": f"m{i}"} for i in range(12)]
    young = [{"term": "m1", "young": True}] + [{"term": f"y{i}", "young": True}
                                               for i in range(5)]
    out = interleave(main, young, 0.25, 12)
    terms = [r["term"] for r in out]
    assert terms[:4] == ["m0", "m1", "m2", "y0"] and terms.count("m1") == 1
    assert sum(t.startswith("y") for t in terms[:12]) == 3
    assert len(out) == len(main) + 3
    assert interleave(main, young, 0.0, 12) == main
