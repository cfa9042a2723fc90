"""Report: the panel's report (HTML, Markdown, JSON, CSV) and the review loop.

`build` gathers a run's data from the store, `render` turns it into files, `review`
exports the review sheet and imports the panel's verdicts.
"""

from scanner.report.build import build_report, rank_change
from scanner.report.render import write_report

__all__ = ["build_report", "rank_change", "write_report"]
