"""Exceptions raised by scanner; the CLI turns them into clear messages at its edge."""


class ScannerError(Exception):
    """Base class of every error scanner raises on purpose."""


class ConfigError(ScannerError):
    """A configuration or data file is missing, unreadable or invalid."""


class SourceError(ScannerError):
    """A source id is unknown or a source definition is invalid."""


class FetchError(ScannerError):
    """A feed could not be fetched; carries a short status word for the fetches table."""

    def __init__(self, status: str, message: str, http_code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.http_code = http_code


class DumpError(ScannerError):
    """A bulk dump cannot be read or mapped onto items."""


class StoreError(ScannerError):
    """The database cannot be opened, migrated or written."""


class RunLockError(ScannerError):
    """Another run holds the store's run lock."""
