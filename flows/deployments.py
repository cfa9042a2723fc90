"""Deployments: the nightly schedule (02:00 Asia/Shanghai) and on-demand flows.

`scanner serve` calls serve() for one long-running local process; prefect.yaml holds
the same nightly schedule for `prefect deploy` onto a work pool.
"""

from __future__ import annotations

from typing import Any

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"


def deployments(config_path: str | None = None, db_path: str | None = None) -> list[Any]:
    """The runner deployments of every flow: nightly on its schedule, the rest on demand."""
    from prefect.schedules import Cron

    from flows.batch import backfill, evaluate, rescore
    from flows.nightly import nightly
    from flows.scale import on_runner
    from scanner.config import load_config

    dask = load_config(config_path, {"db_path": db_path}).dask
    nightly, rescore, backfill = (on_runner(f, dask) for f in (nightly, rescore, backfill))
    common = {"config_path": config_path, "db_path": db_path, "dask": dask or None}
    return [
        nightly.to_deployment(name="nightly", schedules=[Cron(NIGHTLY_CRON, timezone=TIMEZONE)],
                              parameters={**common, "sources": None, "fetch": True},
                              description="Pull, embed, assign, topics, signals, report",
                              concurrency_limit=1),
        rescore.to_deployment(name="rescore", parameters=common, concurrency_limit=1),
        backfill.to_deployment(name="backfill", parameters=common, concurrency_limit=1),
        evaluate.to_deployment(name="evaluate", parameters={"config_path": config_path,
                                                            "db_path": db_path},
                               concurrency_limit=1),
    ]


def serve(config_path: str | None = None, db_path: str | None = None) -> None:
    """Serve every deployment from this process until interrupted."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(config_path, db_path))
