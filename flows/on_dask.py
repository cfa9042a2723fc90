"""Entrypoints for work-pool deployments that embed on Dask.

`prefect deploy` runs a flow as its entrypoint defines it, so the task runner has to be
chosen at import: here it comes from the configuration the worker sees (SCANNER_DASK or
`dask` in SCANNER_CONFIG's file). Use `flows/on_dask.py:nightly` (and `:rescore`,
`:backfill`) as entrypoints; see docs/scaling.md. With `dask` unset they are the plain
in-process flows.
"""

from __future__ import annotations

import flows  # noqa: F401  (offline Prefect settings, before prefect is imported)
from flows.batch import backfill as _backfill
from flows.batch import rescore as _rescore
from flows.nightly import nightly as _nightly
from flows.scale import on_runner
from scanner.config import load_config

_DASK = load_config().dask
nightly = on_runner(_nightly, _DASK)
rescore = on_runner(_rescore, _DASK)
backfill = on_runner(_backfill, _DASK)
