"""The emergence backtest: synthetic growth ranked first, a protocol run on a shared corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scanner.config import SignalSettings, TopicSettings
from tests.support.paths import shared_path


def test_backtest_scores_a_steadily_growing_topic_above_flat_ones() -> None:
    from scanner.evaluation.backtest import (
        Corpus,
        backtest_cutoff,
        format_field_table,
        format_table,
    )

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(12, 24))
    vectors, dates, truth = [], [], []
    for month in range(48):  # 2012-01 .. 2015-12
        day = f"{2012 + month // 12}-{month % 12 + 1:02d}-10"
        for c in range(12):
            # topic 0 doubles every year; the others stay flat
            n = int(3 * 2 ** (month / 12)) if c == 0 else 12
            for _ in range(n):
                v = centres[c] + 0.15 * rng.normal(size=24)
                vectors.append(v / np.linalg.norm(v))
                dates.append(day)
                truth.append(c)
    # three fields: the growing topic's, and two flat topics'
    fields = np.array([[c == 0, c == 1, c == 2] for c in truth])
    corpus = Corpus(np.array(vectors, dtype=np.float32), np.array(dates),
                    ["cs.X"] * len(dates), fields=fields, field_ids=["grow", "flat1", "flat2"])
    result = backtest_cutoff(corpus, "2014-01-01", 730, 6, 8,
                             TopicSettings(n_clusters=12, n_components=10, min_topic_size=5),
                             SignalSettings())
    ours = result["methods"]["emergence score (ours)"]
    assert result["topics"] == 12 and result["grew_2x"] == 1
    # the one topic that grew is ranked first: the top 10% flagged is exactly it
    assert ours["p@10"] == pytest.approx(0.1) and ours["threat"] == 1.0
    assert result["methods"]["random"]["threat"] < 0.2
    # the top tenth of realised growth (1 of 12 topics) is that same topic
    assert ours["threat_top"] == 1.0 and result["methods"]["random"]["threat_top"] < 0.2
    assert "| 2014-01-01 | 12 | 1 | emergence score (ours) |" in format_table([result])
    # the field made of the growing topic grew, and it is the one the ranking flags
    by_field = result["fields"]
    assert by_field["judged"] == 3 and by_field["grew_2x"] == 1
    assert by_field["methods"]["emergence score (ours)"]["threat"] == 1.0
    assert "| 2014-01-01 | 3 | 1 | emergence score (ours) |" in format_field_table([result])
    # fields too thin to judge are left out, and none left means no figures, not an error
    thin = Corpus(corpus.vectors, corpus.dates, corpus.venues, fields=fields[:, :1] & False,
                  field_ids=["empty"])
    sparse = backtest_cutoff(thin, "2014-01-01", 730, 6, 8,
                             TopicSettings(n_clusters=12, n_components=10, min_topic_size=5),
                             SignalSettings())
    assert sparse["fields"]["judged"] == 0 and sparse["fields"]["methods"] == {}


def test_backtest_command_runs_a_protocol_on_the_shared_news_corpus(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    shared_path("corpus", "news_zh_2022_2024.parquet")
    result = CliRunner().invoke(cli, [
        "--db", str(tmp_path / "bt.db"), "evaluate", "backtest", "--corpus", "news",
        "--shared", str(shared_path()), "--sample", "1500", "--model", "hashing-test",
        "--write", str(tmp_path / "bt.md")])
    assert result.exit_code == 0, result.output
    table = (tmp_path / "bt.md").read_text(encoding="utf-8")
    assert "Topics:" in table and "| 2024-01-01 |" in table
    methods = {"emergence score (ours)", "naive count growth", "last-period share", "random"}
    assert all(f"| {m} |" in table for m in methods)
    # no calibrator is trained for the test model: fields are left out, and it says so
    assert "Fields (" not in table and "fields are not ranked" in result.output



def _venue_dump(tmp_path: Path) -> Path:
    """Four themes over 2018-2021, the first growing, in a CSV of its own column names."""
    import csv

    dump = tmp_path / "venue.csv"
    rng = np.random.default_rng(3)
    themes = ["robot grasping with tactile sensors", "graph neural networks for molecules",
              "solar cell perovskite stability", "speech recognition for dialects"]
    with dump.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["headline", "abstract", "when"])
        for month in range(48):
            year, mon = 2018 + month // 12, month % 12 + 1
            for t, theme in enumerate(themes):
                n = 3 + (month // 6 if t == 0 else 0) + int(rng.integers(0, 3))
                for k in range(n):
                    writer.writerow([f"{theme} study {month}-{k}",
                                     f"We report {theme} results number {k} in {year}",
                                     f"{year}-{mon:02d}-15"])
    return dump


def _backtest_dump(tmp_path: Path, dump: Path, *options: str) -> Any:
    """`scanner evaluate backtest` on the dump (its columns mapped, one cut-off, quarters),
    the table written to bt.md."""
    from click.testing import CliRunner

    from scanner.cli import cli

    return CliRunner().invoke(cli, [
        "--db", str(tmp_path / "bt.db"), "evaluate", "backtest", "--corpus", str(dump),
        "--map", "title=headline", "--map", "summary=abstract", "--map", "published=when",
        "--kind", "paper", "--cutoffs", "2020-07-01", "--horizon-days", "365",
        "--period", "3", *options, "--write", str(tmp_path / "bt.md")])


def test_backtest_runs_on_any_dump_with_a_mapping(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from scanner.cli import cli

    dump = _venue_dump(tmp_path)
    result = _backtest_dump(tmp_path, dump, "--sample", "5000", "--model", "hashing-test")
    assert result.exit_code == 0, result.output
    table = (tmp_path / "bt.md").read_text(encoding="utf-8")
    assert str(dump) in table and "| 2020-07-01 |" in table and "3 months" in table
    assert all(f"| {m} |" in table for m in ("emergence score (ours)", "naive count growth",
                                              "last-period share", "random"))
    missing = CliRunner().invoke(cli, ["--db", str(tmp_path / "bt.db"), "evaluate",
                                       "backtest", "--corpus", str(dump), "--model",
                                       "hashing-test"])
    assert missing.exit_code == 1 and "needs --cutoffs" in missing.output


def test_backtest_on_lsa_vectors_embeds_nothing_and_says_so(tmp_path: Path) -> None:
    from scanner.store import Store

    result = _backtest_dump(tmp_path, _venue_dump(tmp_path), "--sample", "0",
                            "--vectors", "lsa")
    assert result.exit_code == 0, result.output
    assert "LSA vectors: topics only" in result.output
    table = (tmp_path / "bt.md").read_text(encoding="utf-8")
    assert "model LSA (lexical" in table and "| emergence score (ours) |" in table
    with Store(tmp_path / "bt.db") as store:  # no model was loaded, nothing embedded
        assert store.db["embeddings"].count == 0


def test_lsa_terms_are_words_and_pairs_and_cjk_characters_and_pairs() -> None:
    from scanner.evaluation.lexical import analyse, lsa_vectors

    assert analyse("Graph neural nets, 2019: GNN-based!") == [
        "graph", "neural", "graph neural", "nets", "neural nets", "gnn-based",
        "nets gnn-based"]
    assert analyse("量子计算 quantum") == ["量", "子", "计", "算", "量子", "子计", "计算",
                                           "quantum"]
    assert analyse("AI芯片与6G网络") == ["ai", "芯", "片", "与", "芯片", "片与", "网", "络",
                                          "网络"]  # no Latin-CJK token; "6G" starts a digit
    texts = [f"quantum error correction {i}" for i in range(30)] + \
        [f"固态电池 电解质 {i}" for i in range(30)]
    vectors = lsa_vectors(texts, components=4)
    assert vectors.shape == (60, 4) and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    same, other = vectors[:30] @ vectors[0], vectors[30:] @ vectors[0]
    assert same.min() > other.max()  # the two themes are apart
    # fitted on the past only, a vocabulary that appears later has no dimension
    later = texts + [f"neuromorphic spiking hardware {i}" for i in range(30)]
    past = np.arange(len(later)) < 60
    fitted_on_past = lsa_vectors(later, components=4, fit_rows=past)
    assert np.allclose(fitted_on_past[60:], 0) and np.allclose(fitted_on_past[:60], vectors,
                                                              atol=1e-5)
    assert not np.allclose(lsa_vectors(later, components=4)[60:], 0)


def test_a_mixed_stream_corpus_scores_each_stream_against_its_own_totals(tmp_path: Path
                                                                          ) -> None:
    """Papers and news in one corpus: a topic rising in papers while news volume swamps
    the pooled totals is still found, because each stream's share is its own."""
    import csv

    from scanner.config import SignalSettings, TopicSettings
    from scanner.evaluation.backtest import backtest_cutoff
    from scanner.evaluation.corpus import load_corpus
    from scanner.store import Store

    rng = np.random.default_rng(5)
    paths = []
    for kind, rows in (("paper", 6), ("news", 60)):
        path = tmp_path / f"{kind}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["title", "summary", "published"])
            for month in range(36):
                day = f"{2019 + month // 12}-{month % 12 + 1:02d}-10"
                for k in range(rows + int(rng.integers(0, 3))):
                    theme = ("quantum error correction codes" if kind == "paper" and
                             k < 1 + month // 4 else f"{kind} topic {k % 3} report")
                    writer.writerow([f"{theme} {month}-{k}", f"About {theme} in {day}", day])
        paths.append(f"{path}::{kind}")
    from scanner.embed import load_embedder

    with Store(tmp_path / "bt.db") as store:
        corpus = load_corpus(store, ",".join(paths), None, "hashing-test", None, 0,
                             lambda: load_embedder("hashing-test"),
                             mapping={"title": "title", "summary": "summary",
                                      "published": "published"})
    assert set(corpus.item_kinds().tolist()) == {"paper", "news"}
    result = backtest_cutoff(corpus, "2021-01-01", 365, 3, 8,
                             TopicSettings(n_components=8, n_clusters=6, min_topic_size=5),
                             SignalSettings())
    ours = result["methods"]["emergence score (ours)"]
    assert result["topics"] >= 3 and np.isfinite(ours["spearman"])


def test_realised_growth_is_measured_on_items_the_clustering_never_saw() -> None:
    from scanner.evaluation.backtest import Corpus, backtest_cutoff

    # stationary topics of very different sizes: nothing grows; the base window's items
    # are half held out of the clustering and attached as the horizon's are
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(8, 24))
    vectors, dates = [], []
    for month in range(48):
        day = f"{2012 + month // 12}-{month % 12 + 1:02d}-10"
        for c in range(8):
            for _ in range(4 + 6 * c):
                v = centres[c] + 0.2 * rng.normal(size=24)
                vectors.append(v / np.linalg.norm(v))
                dates.append(day)
    corpus = Corpus(np.array(vectors, dtype=np.float32), np.array(dates), ["cs.X"] * len(dates))
    settings = TopicSettings(n_clusters=8, n_components=10, min_topic_size=5)
    held = backtest_cutoff(corpus, "2014-01-01", 730, 6, 8, settings, SignalSettings())
    fitted = backtest_cutoff(corpus, "2014-01-01", 730, 6, 8, settings, SignalSettings(),
                             label="in-sample")
    assert held["label"] == "held-out" and fitted["label"] == "in-sample"
    assert held["items_before"] == fitted["items_before"] and held["topics"] == 8
    # the held-out base is attached like the future: about as many of its items fit no topic
    assert abs(held["base_unattached"] - held["future_unattached"]) < 0.02
    assert fitted["base_unattached"] <= held["base_unattached"]
    with pytest.raises(ValueError, match="held-out or in-sample"):
        backtest_cutoff(corpus, "2014-01-01", 730, 6, 8, settings, SignalSettings(),
                        label="both")


def test_the_noise_ceiling_is_low_for_pure_noise_and_high_for_clear_growth() -> None:
    from scanner.evaluation.backtest import noise_ceiling

    rng = np.random.default_rng(0)
    before = np.full(80, 100.0)
    noise = noise_ceiling(before, rng.poisson(100, 80).astype(float))
    assert noise["signal_sd"] < 0.05 and noise["oracle_threat"] < 0.2
    clear = noise_ceiling(before, rng.poisson(100 * np.exp(rng.normal(0, 1, 80))).astype(float))
    assert clear["signal_sd"] > 0.7 and clear["oracle_threat"] > 0.6
