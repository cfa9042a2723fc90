"""Run dates that cannot wreck a store (issue 17, problem 3)."""

from __future__ import annotations

from scanner.run import RunContext, embed_stage, run_steps, stored_run_date, topics_stage


def _store_with_topics(write_config, make_items) -> tuple:
    config = write_config(extra="[topics]\nwindow_days = 60\nmin_topic_size = 3\n")
    items = []
    for day in ("2025-05-05", "2025-05-20", "2025-06-02", "2025-06-20"):
        items += make_items(30, kind="paper", day=day, words=f"quantum sensing {day}")
        items += make_items(30, kind="paper", day=day, words=f"battery anodes {day}",
                            source_id="other")
    with RunContext(config, "2025-06-30") as ctx:
        ctx.store.upsert_items(items)
        summary = run_steps(ctx, "nightly", {}, [embed_stage, topics_stage])
    return config, summary


def test_a_run_date_past_the_data_keeps_the_topics_and_names_the_newest_date(
        write_config, make_items) -> None:
    config, first = _store_with_topics(write_config, make_items)
    topics_before = first["stages"][1]["topics"]
    assert first["stages"][1]["status"] == "ok" and topics_before > 0
    with RunContext(config, "2026-06-30") as ctx:
        later = run_steps(ctx, "nightly", {}, [topics_stage])
        stage = later["stages"][0]
        assert stage["status"] == "skipped"
        assert "2025-06-20" in stage["reason"] and "topics kept" in stage["reason"]
        live = [t for t in ctx.store.current_topics("hashing-test", "all", ("live",))]
        assert len(live) == topics_before  # nothing died


def test_a_run_without_fetch_and_date_defaults_to_the_newest_item(write_config,
                                                                  make_items) -> None:
    config = write_config()
    with RunContext(config) as ctx:
        ctx.store.upsert_items(make_items(3, day="2024-12-30"))
        day, note = stored_run_date(ctx.store, None, fetch=False)
        assert day == "2024-12-30" and "newest stored item" in note
        assert stored_run_date(ctx.store, "2025-01-05", fetch=False) == ("2025-01-05", "")
        assert stored_run_date(ctx.store, None, fetch=True)[1] == ""
