"""Progress of a run's stages: reports, the log printer, the command line's bars."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner import progress
from scanner.config import load_config
from scanner.progress import Step
from scanner.run import RunContext, run_steps


def test_reports_reach_listeners_only_while_they_listen() -> None:
    heard: list[Step] = []
    progress.report("embed", 1, 2)  # nobody listens: nothing happens
    with progress.listening(heard.append):
        assert progress.is_heard()
        progress.report("embed", 1, 2)
        progress.finish("embed")
    progress.report("embed", 2, 2)
    assert heard == [Step("embed", 1, 2), Step("embed", finished=True)]
    assert not progress.is_heard()


def test_a_failing_listener_is_dropped_and_the_others_still_hear() -> None:
    heard: list[Step] = []

    def broken(step: Step) -> None:
        raise RuntimeError("display gone")

    with progress.listening(broken), progress.listening(heard.append):
        progress.report("assign", 1, 10)  # must not raise
        progress.report("assign", 2, 10)
    assert [s.done for s in heard] == [1, 2]


def test_printer_writes_about_a_line_per_tenth_whatever_the_size() -> None:
    lines: list[str] = []
    listen = progress.printer(lines.append)
    listen(Step("topics"))
    listen(Step("topics"))  # an uncounted stage says it started once
    for done in range(0, 100_001, 256):
        listen(Step("embed", done, 100_000))
    listen(Step("embed", 100_000, 100_000))
    listen(Step("embed", finished=True))
    assert lines[0] == "topics: started"
    counted = [line for line in lines if line.startswith("embed: ") and "/" in line]
    assert 10 <= len(counted) <= 12
    assert counted[0] == "embed: 0/100,000 (0%)" and counted[-1] == "embed: 100,000/100,000 (100%)"
    assert lines[-1] == "embed: done"


def test_a_run_nobody_watches_logs_its_progress(tmp_path: Path, capsys: pytest.CaptureFixture
                                                ) -> None:
    config = load_config(None, {"db_path": str(tmp_path / "s.db")})

    def step(ctx: RunContext) -> dict[str, str]:
        for done in (0, 50, 100):
            progress.report("work", done, 100)
        return {"stage": "work", "status": "ok"}

    run_steps(RunContext(config, "2026-01-01"), "nightly", {}, [step])
    out = capsys.readouterr().out.splitlines()
    assert out == ["work: 0/100 (0%)", "work: 50/100 (50%)", "work: 100/100 (100%)",
                   "work: done"]
    # with a listener (the command line's bars) nothing is printed
    heard: list[Step] = []
    with progress.listening(heard.append):
        run_steps(RunContext(config, "2026-01-02"), "nightly", {}, [step])
    assert capsys.readouterr().out == ""
    assert heard[-1] == Step("work", finished=True) and len(heard) == 4


def test_stage_bars_follow_the_reports() -> None:
    import io

    from rich.console import Console
    from rich.progress import Progress

    from scanner.cli._common import StageBars

    with Progress(console=Console(file=io.StringIO())) as bars:
        listen = StageBars(bars)
        listen(Step("embed", 0, 300))
        listen(Step("embed", 256, 300))
        listen(Step("topics"))
        listen(Step("topics", finished=True))
        listen(Step("embed", finished=True))
        shown = {t.description: t for t in bars.tasks}
    assert shown["embed"].completed == 300 and shown["embed"].total == 300
    assert shown["embed"].fields["count"] == "256/300"  # the last count the stage gave
    assert shown["topics"].finished and shown["topics"].fields["count"] == "done"
