"""Run: a run's lifecycle (lock, run row), its context, and the stages it calls.

The flows in flows/ and the CLI both go through here: `run_steps(ctx, kind, params,
steps)` takes the lock, opens the run row, calls each step with the context and closes
the row whatever happens.
"""

from scanner.run.context import RunContext, configured_embedder
from scanner.run.lifecycle import (
    RUN_LOCK,
    begin_run,
    end_run,
    run_date_or_today,
    run_steps,
    stored_run_date,
)
from scanner.run.stages import (
    STAGES,
    assign_stage,
    embed_stage,
    pull_stage,
    report_stage,
    shipped_calibrator_file,
    signals_stage,
    terms_stage,
    topics_stage,
)

__all__ = [
    "RUN_LOCK",
    "STAGES",
    "RunContext",
    "assign_stage",
    "begin_run",
    "configured_embedder",
    "embed_stage",
    "end_run",
    "pull_stage",
    "report_stage",
    "run_date_or_today",
    "run_steps",
    "shipped_calibrator_file",
    "signals_stage",
    "stored_run_date",
    "terms_stage",
    "topics_stage",
]
