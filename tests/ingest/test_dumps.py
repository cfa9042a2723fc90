"""Bulk import: presets for the shared corpora, mappings, idempotence and crash resume."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from scanner.errors import DumpError
from scanner.ingest.dumps import import_dump
from scanner.store import Store
from tests.support.paths import REPO, shared_path


@pytest.fixture(scope="module")
def arxiv_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 10,000 rows of the 2010-2019 arXiv corpus, written to a temp file."""
    source = shared_path("corpus", "arxiv_2010_2019.parquet")
    path = tmp_path_factory.mktemp("slice") / "arxiv_10k.parquet"
    pq.write_table(pq.ParquetFile(source).read_row_group(0).slice(0, 10_000)
                   if pq.ParquetFile(source).metadata.row_group(0).num_rows >= 10_000
                   else pq.read_table(source).slice(0, 10_000), path)
    return path


def test_importing_twice_gives_each_item_once(store: Store, arxiv_slice: Path) -> None:
    first = import_dump(store, arxiv_slice)
    assert first.preset == "arxiv-2010-2019" and first.counts.new == 10_000
    again = import_dump(store, arxiv_slice, restart=True)  # really read and upsert again
    assert again.rows_read == 10_000 and again.counts.new == 0
    assert again.counts.unchanged == 10_000
    assert store.db["items"].count == 10_000
    skipped = import_dump(store, arxiv_slice)  # checkpoint says finished: nothing to read
    assert skipped.rows_read == 0 and skipped.rows_skipped_resume == 10_000
    item = store.item("arxiv:" + pq.read_table(arxiv_slice).column("arxiv_id")[0].as_py())
    assert item and item["kind"] == "paper" and item["primary_category"]
    assert item["url"].startswith("https://arxiv.org/abs/") and item["published_flag"] == "ok"


def test_chunked_import_reads_each_row_once_and_finishes(store: Store,
                                                          arxiv_slice: Path) -> None:
    """A backfill's chunks: max_rows rows per call, resuming from the checkpoint."""
    reads = []
    while True:
        result = import_dump(store, arxiv_slice, max_rows=3_000, batch_size=1_000)
        reads.append(result.rows_read)
        if result.rows_read < 3_000:
            break
    assert reads == [3_000, 3_000, 3_000, 1_000]
    assert store.db["items"].count == 10_000
    assert import_dump(store, arxiv_slice).rows_read == 0  # finished


def _count(db_path: Path, sql: str) -> int:
    conn = sqlite3.connect(db_path, timeout=30)
    try:
        row = conn.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def test_killed_import_resumes_to_the_same_table(tmp_path: Path, arxiv_slice: Path) -> None:
    reference = Store(tmp_path / "reference.db")
    import_dump(reference, arxiv_slice)
    expected = reference.item_fingerprint()
    reference.close()

    db_path = tmp_path / "killed.db"
    command = [sys.executable, "-m", "scanner.cli", "--db", str(db_path), "import",
               str(arxiv_slice), "--batch-size", "250"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _count(db_path, "SELECT max(rows_done) FROM imports") >= 2_000:
            break
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_at_kill = _count(db_path, "SELECT max(rows_done) FROM imports")
    items_at_kill = _count(db_path, "SELECT count(*) FROM items")
    assert 0 < done_at_kill < 10_000, "the import should have been killed part-way"
    assert items_at_kill == done_at_kill  # items and checkpoint are committed together

    rerun = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed after" in rerun.stdout
    store = Store(db_path)
    assert store.item_fingerprint() == expected
    store.close()


def test_news_corpus_imports_every_story(store: Store) -> None:
    path = shared_path("corpus", "news_zh_2022_2024.parquet")
    result = import_dump(store, path)
    total = pq.ParquetFile(path).metadata.num_rows
    assert result.preset == "news-zh" and result.counts.new == total
    by_language = store.stats()["items_by_language"]
    assert by_language.get("zh", 0) >= 0.99 * total
    assert store.db["items"].count_where("kind = 'news' AND published_flag = 'ok'") == total


def test_arxiv_ids_that_lost_trailing_zeros_get_them_back(store: Store,
                                                         tmp_path: Path) -> None:
    import pyarrow as pa

    # the shared 2010-2019 corpus holds 1801.0485 for 1801.04850 (ids once held as numbers)
    table = pa.table({"arxiv_id": ["1801.0485", "1412.123", "1801.04851"],
                      "created": ["2018-01-15", "2014-12-01", "2018-01-15"],
                      "primary_cat": ["cs.LG"] * 3, "categories": ["cs.LG"] * 3,
                      "title": ["Lost zero", "Old style", "Complete"],
                      "abstract": ["An abstract of enough words to be an item."] * 3})
    path = tmp_path / "arxiv.parquet"
    pq.write_table(table, path)
    result = import_dump(store, path)  # the preset is recognised by its columns
    assert result.preset == "arxiv-2010-2019" and result.counts.new == 3
    urls = {r["title"]: r["url"] for r in store.db.query("SELECT title, url FROM items")}
    assert urls == {"Lost zero": "https://arxiv.org/abs/1801.04850",
                    "Old style": "https://arxiv.org/abs/1412.1230",
                    "Complete": "https://arxiv.org/abs/1801.04851"}


def test_arxiv_snapshot_jsonl_and_bad_lines(store: Store, tmp_path: Path) -> None:
    rows = [
        {"id": "0704.0001", "submitter": "P. Balázs", "authors": "C. Balázs, E. L. Berger and "
         "C.-P. Yuan", "title": "Calculation of prompt diphoton production",
         "abstract": "  A fully differential calculation with x<y.  ", "categories": "hep-ph",
         "doi": "10.1103/PhysRevD.76.013009",
         "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
         "update_date": "2008-11-13", "authors_parsed": [["Balázs", "C.", ""]]},
        {"id": "0704.0002", "authors": "A. B", "title": "", "abstract": "no title",
         "categories": "math.CO", "versions": [], "authors_parsed": []},
    ]
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    result = import_dump(store, path)
    assert result.preset == "arxiv-snapshot"
    assert result.counts.new == 1 and result.rows_invalid == 2
    item = store.item("arxiv:0704.0001")
    assert item["authors"] == ["C. Balázs", "E. L. Berger", "C.-P. Yuan"]
    assert item["summary"] == "A fully differential calculation with x<y."
    assert item["published"].startswith("2007-04-02") and item["doi"].startswith("10.1103/")


def test_csv_with_mapping_and_errors(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "policy.csv"
    path.write_text("headline,body,when,link\n"
                    "上海发布未来产业行动方案,聚焦脑机接口与量子科技,2025-09-26,https://www.shanghai.gov.cn/a\n"
                    "No date here,Body,,https://example.org/b\n", encoding="utf-8")
    with pytest.raises(DumpError, match="no known layout"):
        import_dump(store, path)
    with pytest.raises(DumpError, match="not in the dump"):
        import_dump(store, path, mapping={"title": "nope"})
    result = import_dump(store, path, kind="policy", mapping={
        "title": "headline", "summary": "body", "published": "when", "url": "link"})
    assert result.counts.new == 2
    flags = {r["title"]: (r["language"], r["published_flag"], r["kind"])
             for r in store.db["items"].rows}
    assert flags["上海发布未来产业行动方案"] == ("zh", "ok", "policy")
    assert flags["No date here"] == ("en", "missing", "policy")


ZH_COLUMNS = ("tldr_zh", "motivation_zh", "method_zh", "result_zh", "conclusion_zh")


def _cs_daily_rows() -> list[dict]:
    """Rows in the layout of the shared arXiv CS corpus (its 'None' cells included)."""
    base = {"date": "2025-03-19", "categories": "cs.RO cs.AI"}
    return [
        {**base, "id": "2503.00001", "title": "Legged robots that climb stairs",
         "summary_en": "We train a quadruped.", "tldr_zh": "None",
         "motivation_zh": "四足机器人上楼梯仍然困难。", "method_zh": "强化学习训练步态。",
         "result_zh": None, "conclusion_zh": "机器人可稳定上楼梯。"},
        {**base, "id": "2503.00002", "title": "A paper without a Chinese summary",
         "summary_en": "Nothing in Chinese.", **dict.fromkeys(ZH_COLUMNS, "None")},
    ]


def test_import_keeps_the_chinese_summary_beside_the_item(store: Store, tmp_path: Path) -> None:
    import pyarrow as pa

    path = tmp_path / "cs_daily.parquet"
    pq.write_table(pa.Table.from_pylist(_cs_daily_rows()), path)
    result = import_dump(store, path)
    assert result.preset == "arxiv-cs-daily" and result.counts.new == 2
    kept = store.item_summaries(["arxiv:2503.00001", "arxiv:2503.00002"], "zh")
    # the non-empty parts, one a line; 'None' cells and missing ones left out
    assert kept == {"arxiv:2503.00001": "四足机器人上楼梯仍然困难。\n强化学习训练步态。\n"
                                        "机器人可稳定上楼梯。"}
    item = store.item("arxiv:2503.00001")
    assert item["language"] == "en" and item["summary"] == "We train a quadruped."
    # items stored before summaries were kept get theirs from a re-import, which
    # changes no item and keeps one summary per item and language
    store.db.execute("DELETE FROM item_summaries")
    again = import_dump(store, path, restart=True)
    assert again.counts.unchanged == 2 and store.db["item_summaries"].count == 1
    assert store.item_summaries(["arxiv:2503.00001"], "zh") == kept


def test_an_explicit_map_can_name_the_chinese_summary_columns(store: Store,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "papers.csv"
    path.write_text("headline,abstract,when,zh1,zh2\nSwarm drones,We fly.,2025-05-01,"
                    "无人机集群。,协同控制。\n", encoding="utf-8")
    import_dump(store, path, mapping={"title": "headline", "summary": "abstract",
                                      "published": "when", "summary_zh": "zh1+zh2"})
    (summary,) = store.item_summaries([r["id"] for r in store.db["items"].rows], "zh").values()
    assert summary == "无人机集群。\n协同控制。"
    with pytest.raises(DumpError, match="not in the dump"):
        import_dump(store, path, mapping={"title": "headline", "summary_zh": "zh1+nope"})


def test_the_shared_cs_corpus_keeps_its_chinese_summaries(store: Store, tmp_path: Path) -> None:
    source = shared_path("corpus", "arxiv_cs_2025_2026.parquet")
    rows = pq.ParquetFile(source).read_row_group(0).slice(0, 300)
    path = tmp_path / "cs_300.parquet"
    pq.write_table(rows, path)
    import_dump(store, path)
    kept = store.item_summaries([f"arxiv:{i}" for i in rows.column("id").to_pylist()], "zh")
    expected = {}
    for row in rows.to_pylist():
        parts = [str(row[c]).strip() for c in ZH_COLUMNS
                 if row[c] is not None and str(row[c]).strip() not in ("", "None")]
        if parts:
            expected[f"arxiv:{row['id']}"] = "\n".join(parts)
    assert expected and kept == expected


def test_an_old_store_migrates_and_an_import_fills_its_summaries(tmp_path: Path) -> None:
    import pyarrow as pa

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript((REPO / "tests" / "fixtures" / "store_v8.sql").read_text())
    conn.close()
    store = Store(path)  # migrates
    assert "item_summaries" in store.db.table_names()
    old_items = store.db["items"].count
    dump = tmp_path / "cs_daily.parquet"
    pq.write_table(pa.Table.from_pylist(_cs_daily_rows()), dump)
    import_dump(store, dump)
    assert store.db["items"].count == old_items + 2
    assert list(store.item_summaries(["arxiv:2503.00001"], "zh")) == ["arxiv:2503.00001"]
    store.close()


NEWS_MAP = {"title": "title", "summary": "summary", "published": "published", "url": "url"}


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    import csv

    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows([["title", "summary", "published", "url"], *rows])
    return path


def test_chinese_and_excel_csvs_are_read_as_written(store: Store, tmp_path: Path) -> None:
    """A GBK dump was stored as U+FFFD with '3 new' and the text lost; Excel's "CSV UTF-8"
    (a BOM) was refused as an unknown layout ('\\ufeffurl')."""
    rows = [["量子计算取得新突破", "上海发布未来产业集群行动方案", "2025-06-01", "https://e.org/1"]]
    for name, encoding in (("gbk.csv", "gbk"), ("bom.csv", "utf-8-sig")):
        result = import_dump(store, _csv(tmp_path / name, rows, encoding), kind="news",
                             mapping=NEWS_MAP, restart=True)
        assert result.encoding == ("gb18030" if encoding == "gbk" else "utf-8")
    (item,) = store.db["items"].rows
    assert item["title"] == "量子计算取得新突破" and "上海发布" in item["summary"]
    bom = tmp_path / "bom.jsonl"
    bom.write_text(json.dumps({"title": "a BOM line", "published": "2025-06-02"}) + "\n",
                   encoding="utf-8-sig")
    assert import_dump(store, bom, kind="news", mapping={
        "title": "title", "published": "published"}).counts.new == 1


def test_a_huge_cell_a_deep_line_and_object_titles_lose_nothing_else(store: Store,
                                                                     tmp_path: Path) -> None:
    """A 300 KB CSV cell (Python's limit is 128 KB) and a 200,000-deep JSON line stopped the
    import on every rerun; an object or boolean title was stored as an empty title."""
    big = _csv(tmp_path / "big.csv", [["big body", "x" * 300_000, "2025-06-01",
                                       "https://e.org/b"],
                                      ["after it", "y", "2025-06-02", "https://e.org/c"]],
               "utf-8")
    assert import_dump(store, big, kind="news", mapping=NEWS_MAP).counts.new == 2
    deep = tmp_path / "deep.jsonl"
    deep.write_text("\n".join([
        json.dumps({"title": "before", "published": "2025-06-01"}),
        '{"title": ' + "[" * 200_000 + "]" * 200_000 + "}",
        json.dumps({"title": {"an": "object"}, "published": "2025-06-01"}),
        json.dumps({"title": True, "published": "2025-06-01"}),
        json.dumps({"title": "after", "published": "2025-06-01"})]) + "\n", encoding="utf-8")
    result = import_dump(store, deep, kind="news", mapping={"title": "title",
                                                            "published": "published"})
    assert (result.counts.new, result.rows_invalid) == (2, 3)
    titles = {r["title"] for r in store.db["items"].rows}
    assert {"before", "after", "big body", "after it"} <= titles and "" not in titles
    assert "True" not in titles


def test_a_truncated_gzip_dump_keeps_what_was_read_and_says_why(store: Store,
                                                                tmp_path: Path) -> None:
    """click printed only "Aborted!" for the EOFError of a truncated .jsonl.gz."""
    import gzip

    lines = "".join(json.dumps({"title": f"story {i} " + "z" * (i % 97),
                                "published": "2025-06-01"}) + "\n" for i in range(20_000))
    packed = gzip.compress(lines.encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DumpError, match=r"EOFError: Compressed file ended .*what was read "
                                         r"before is stored; rerun to resume"):
        import_dump(store, path, kind="news", mapping={"title": "title",
                                                       "published": "published"},
                    batch_size=1_000)
    assert store.db["items"].count >= 1_000  # the batches before the cut are stored


def test_the_import_line_counts_every_row(tmp_path: Path) -> None:
    """The summary left out duplicates and rows stored by another source, so '200 rows
    read: 0 new, 0 changed, 0 unchanged' accounted for nothing."""
    from click.testing import CliRunner

    from scanner.cli import cli

    row = ["same story", "text", "2025-06-01", "https://e.org/same"]
    path = _csv(tmp_path / "dup.csv", [row, row, ["other", "t", "2025-06-02", ""]], "utf-8")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.db"), "import", str(path),
                                      "--kind", "news", *[f"--map={k}={v}" for k, v in
                                                          NEWS_MAP.items()]])
    out = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "3 rows read" in out and "2 new, 0 changed, 0 unchanged, 1 duplicates, 0 already " \
        "stored by another source, 0 unreadable or without a title" in out, out
