"""Pull: sources, HTTP fetching, feed parsing, item normalisation and bulk dumps.

The public face of the ingest stage; the modules behind it:
`sources` (data/sources.toml), `fetch` (the HTTP client), `parse` (bytes to entries),
`normalize` (entries to items), `pull` (sources to stored items and fetch rows) and
`dumps` (bulk imports of CSV, JSON lines and Parquet files).
"""

from scanner.ingest.dumps import PRESETS, ImportResult, import_dump, row_to_item
from scanner.ingest.normalize import ITEM_KINDS, make_item
from scanner.ingest.pull import SourceResult, parse_outcome, pull_date_range, pull_sources
from scanner.ingest.sources import Source, load_sources, select_sources

__all__ = ["ITEM_KINDS", "PRESETS", "ImportResult", "Source", "SourceResult", "import_dump",
           "load_sources", "make_item", "parse_outcome", "pull_date_range", "pull_sources",
           "row_to_item", "select_sources"]
