"""The repository's own text files carry no unresolved merge-conflict markers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".yaml", ".yml", ".html", ".j2", ".jsonl"}
SKIP = {".git", ".venv", ".cache", "var", "test-artifacts", "node_modules"}


def project_files() -> list[Path]:
    """Text files of the project, outside caches, venvs and run output."""
    found = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIP or any(p.endswith(".egg-info") for p in parts):
            continue
        if path.is_file() and (path.suffix in SUFFIXES or path.name in {"Makefile", "run"}):
            found.append(path)
    return found


def test_no_conflict_markers_in_project_files() -> None:
    files = project_files()
    assert any(p.name == "README.md" for p in files)
    offenders = [
        f"{p.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
        for p in files
        for text in [p.read_text(encoding="utf-8", errors="replace")]
        for m in MARKER.finditer(text)
    ]
    assert offenders == []
