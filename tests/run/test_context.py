"""One run context per run: the taxonomy parsed once, the model loaded once, one store
handle, shared by every stage of a nightly run that has work in both embed and assign."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import scanner.run.context as context_module
import scanner.run.stages as stages_module
from scanner.assign import Calibrator, Scorer
from scanner.embed import load_embedder
from scanner.ingest import make_item
from scanner.run import (
    RunContext,
    assign_stage,
    embed_stage,
    report_stage,
    run_steps,
    signals_stage,
    topics_stage,
)
from scanner.taxonomy import load_taxonomy


def _calibrator(taxonomy_file: Path, path: Path) -> Path:
    """A calibrator for the hashing model, fitted on titles that name a field."""
    taxonomy = load_taxonomy(taxonomy_file)
    scorer = Scorer(taxonomy, load_embedder("hashing-test"))
    fields = taxonomy.active_fields
    titles, labels = [], np.zeros((92, len(fields)), dtype=int)
    for i in range(92):
        f = fields[i % len(fields)]
        titles.append(f"{f.en}: {f.keywords_en[0]} study {i}")
        labels[i, i % len(fields)] = 1
    evidence = scorer.evidence(titles, [""] * len(titles), scorer.embedder.embed(titles))
    Calibrator(threshold=0.5).fit(evidence, labels, scorer.field_ids).save(path)
    return path


def test_a_nightly_run_loads_the_model_once_and_parses_the_taxonomy_once(
        tmp_path: Path, write_config, monkeypatch) -> None:
    config = write_config()
    calibrator = _calibrator(config.taxonomy_file, tmp_path / "calibrator.json")
    monkeypatch.setattr(stages_module, "shipped_calibrator_file", lambda ctx: calibrator)
    loads: list[str] = []
    parses: list[str] = []
    real_embedder, real_parse = context_module.configured_embedder, context_module.load_taxonomy

    def counting_embedder(cfg: Any) -> Any:
        loads.append(cfg.model)
        return real_embedder(cfg)

    def counting_parse(path: Any) -> Any:
        parses.append(str(path))
        return real_parse(path)

    monkeypatch.setattr(context_module, "configured_embedder", counting_embedder)
    monkeypatch.setattr(context_module, "load_taxonomy", counting_parse)
    day = datetime(2026, 1, 20, tzinfo=UTC)
    fields = load_taxonomy(config.taxonomy_file).active_fields
    items = [make_item(source_id="s", kind="paper", title=f"{f.en} {f.keywords_en[0]} {i}",
                       summary=f"{f.keywords_en[-1]} results {i}", fetched_at=day,
                       url=f"https://example.org/{f.id}/{i}", published=day)
             for i in range(6) for f in fields]
    with RunContext(config, "2026-01-20") as ctx:
        ctx.store.upsert_items(items)
        summary = run_steps(ctx, "nightly", {}, [embed_stage, assign_stage, topics_stage,
                                                  signals_stage, report_stage])
        stages = {s["stage"]: s for s in summary["stages"]}
        assert stages["embed"]["embedded"] == len(items)  # both stages had work to do
        assert stages["assign"]["assigned"] == len(items)
        assert loads == ["hashing-test"] and ctx.model_loads == 1
        assert len(parses) == 1
        assert ctx.store.recent_runs(1)[0]["status"] == "ok"


def test_a_night_without_new_items_loads_no_model(write_config, monkeypatch) -> None:
    config = write_config()

    def no_model(cfg: Any) -> Any:
        raise AssertionError("the model was loaded although nothing needed it")

    monkeypatch.setattr(context_module, "configured_embedder", no_model)
    with RunContext(config, "2026-01-20") as ctx:
        summary = run_steps(ctx, "nightly", {}, [embed_stage])
    assert summary["stages"][0]["embedded"] == 0
