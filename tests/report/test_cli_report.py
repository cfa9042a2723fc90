"""Report-side CLI frictions (issue 19): unknown ids named, `rank` wrapping its reasons,
`report --pdf` without Chromium said before any work."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from scanner.cli import cli


def test_unknown_field_rank_wraps_and_pdf_needs_chromium(report_store, tmp_path: Path,
                                                         monkeypatch) -> None:
    from scanner.report import render

    report_store(tmp_path / "s.db").close()
    env = {"SCANNER_REPORT_DIR": str(tmp_path / "out"), "SCANNER_MODEL": "m"}
    runner = CliRunner()
    typo = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "signals", "--field",
                               "deep"], env=env)
    assert typo.exit_code == 1 and "unknown field 'deep'" in typo.output
    assert "deep-sea" in typo.output  # the nearest id is offered
    ranked = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "rank"], env=env)
    assert ranked.exit_code == 0
    flat = " ".join(line.strip("│┃ ") for line in ranked.output.splitlines())
    assert "items in the active window" in flat  # the reason is whole, wrapped, not cut
    monkeypatch.setattr(render, "find_browser", lambda: None)
    pdf = runner.invoke(cli, ["--db", str(tmp_path / "s.db"), "report", "--pdf"], env=env)
    assert pdf.exit_code == 1 and "apt-get install chromium" in pdf.output
    assert not (tmp_path / "out").exists()  # said before any work
