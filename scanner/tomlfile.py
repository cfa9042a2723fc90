"""The one TOML reader. Every file the project reads (config, sources, taxonomy, model
registry) comes through `read_toml`, and every problem found in one is named the same
way: `<what> <path>, line <n>[, <context>], key '<key>': <problem>`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError


@dataclass(frozen=True)
class TomlText:
    """A parsed TOML file with its text, to name the line of a problem.

    tomllib keeps no positions, so lines are found in the text: the first `key =` (or
    the n-th occurrence of a literal such as `[[source]]`).
    """

    what: str
    path: Path
    text: str
    data: dict[str, Any]

    def line_of(self, needle: str, occurrence: int = 1) -> int | None:
        """Line of the n-th occurrence of a literal, or None."""
        index = -1
        for _ in range(occurrence):
            index = self.text.find(needle, index + 1)
            if index < 0:
                return None
        return self.text.count("\n", 0, index) + 1

    def key_line(self, key: str) -> int | None:
        """Line of the first `key = ...` (quoted or bare), or None."""
        match = re.search(rf'^[ \t]*"?{re.escape(key)}"?[ \t]*=', self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    def where(self, key: str | None = None, line: int | None = None,
              context: str | None = None) -> str:
        """`<what> <path>, line <n>, <context>, key '<key>'`, leaving out what is unknown."""
        if line is None and key is not None:
            line = self.key_line(key.rsplit(".", 1)[-1])
        parts = [f"{self.what} {self.path}"]
        if line:
            parts.append(f"line {line}")
        if context:
            parts.append(context)
        if key:
            parts.append(f"key '{key}'")
        return ", ".join(parts)

    def error(self, message: str, key: str | None = None, line: int | None = None,
              context: str | None = None) -> ConfigError:
        """A ConfigError naming file, line, context and key."""
        return ConfigError(f"{self.where(key, line, context)}: {message}")


def read_toml(path: Path | str, what: str, missing: str = "") -> TomlText:
    """Read and parse one TOML file.

    Args:
        path: the file.
        what: what the file is, for messages ("config file", "sources file", ...).
        missing: a hint added when the file does not exist (how to point at another).

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8 or not valid TOML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} {path} does not exist{missing}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what} {path} cannot be read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc
    return TomlText(what, path, text, data)
