"""Analyst frictions (issue 19): import date ranges and seeded samples, progress lines
when the output is not a terminal (the report commands' are in tests/report)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from scanner.cli import cli
from scanner.store import Store


def _news_dump(path: Path, n: int = 60) -> Path:
    days = [f"2023-{m:02d}-{d:02d}" for m in range(1, 7) for d in (3, 13, 23)]
    rows = {"date": [days[i % len(days)] for i in range(n)],
            "title": [f"新闻标题 {i} 关于量子计算" for i in range(n)],
            "text": [f"正文 {i}：某研究院发布了新的量子计算原型机。" for i in range(n)],
            "url": [f"https://news.example.org/{i}" for i in range(n)],
            "language": ["zh"] * n, "source": ["example"] * n}
    pq.write_table(pa.table(rows), path)
    return path


def test_import_since_until_and_a_seeded_sample(tmp_path: Path) -> None:
    dump = _news_dump(tmp_path / "news.parquet")
    db = tmp_path / "s.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "import", str(dump), "--since", "2023-02-01",
                                 "--until", "2023-04-30", "--sample", "10", "--seed", "7"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "10 new" in said and "50 left out (published 2023-02-01 to 2023-04-30 and a " \
        "sample of 10 (seed 7))" in said
    # not a terminal: progress comes as lines, not as an invisible bar
    assert "import: started" in result.output and "import: done" in result.output
    with Store(db) as store:
        dates = sorted(r[0][:10] for r in store.db.execute("SELECT published FROM items"))
        first = sorted(r[0] for r in store.db.execute("SELECT id FROM items"))
    assert len(dates) == 10 and dates[0] >= "2023-02-01" and dates[-1] <= "2023-04-30"
    again = tmp_path / "again.db"
    runner.invoke(cli, ["--db", str(again), "import", str(dump), "--since", "2023-02-01",
                        "--until", "2023-04-30", "--sample", "10", "--seed", "7"])
    with Store(again) as store:
        assert sorted(r[0] for r in store.db.execute("SELECT id FROM items")) == first
    bad = runner.invoke(cli, ["--db", str(db), "import", str(dump), "--since", "2023-05-01",
                              "--until", "2023-04-01"])
    assert bad.exit_code != 0 and "is after --until" in bad.output
