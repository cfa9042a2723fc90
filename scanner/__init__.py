"""horizon-scanner: horizon scanning of emerging technology fields."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root when installed in development mode; holds data/ and models/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
