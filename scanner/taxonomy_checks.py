"""Checks over a loaded taxonomy: every citation listed and its quote found in its source
document, and what changed between two versions."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from scanner.taxonomy import Citation, Taxonomy


def _squash(text: str) -> str:
    """Text compared for quoting: NFKC (full-width punctuation), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))



def all_citations(taxonomy: Taxonomy) -> list[tuple[str, Citation]]:
    """Every citation in the taxonomy with a label of what it supports."""
    found: list[tuple[str, Citation]] = []
    for label in (*taxonomy.directions.values(), *taxonomy.tiers.values()):
        found.extend((label.id, c) for c in label.citations)
    for f in taxonomy.fields.values():
        found.extend((f"{f.id} ({c.claim})", c) for c in f.citations)
        found.extend((f"{f.id}/{p.id}", p.citation) for p in f.pathways if p.citation)
    return found



def verify_citations(taxonomy: Taxonomy, seeds_dir: Path | str) -> list[str]:
    """Problems with citations: missing documents or quotes not found verbatim."""
    seeds_dir = Path(seeds_dir)
    texts: dict[str, str] = {}
    problems: list[str] = []
    for label, citation in all_citations(taxonomy):
        if citation.doc not in texts:
            doc_path = seeds_dir / citation.doc
            if not doc_path.is_file():
                problems.append(f"{label}: document {doc_path} not found")
                texts[citation.doc] = ""
                continue
            texts[citation.doc] = _squash(doc_path.read_text(encoding="utf-8"))
        if texts[citation.doc] and _squash(citation.quote) not in texts[citation.doc]:
            problems.append(f"{label}: quote not found in {citation.doc}: {citation.quote!r}")
    return problems



def diff_taxonomies(old: Taxonomy, new: Taxonomy) -> list[str]:
    """Human-readable changes from one version to the next."""
    changes: list[str] = []
    for fid in new.fields.keys() - old.fields.keys():
        changes.append(f"field added: {fid} ({new.fields[fid].en} / {new.fields[fid].zh})")
    for fid in old.fields.keys() - new.fields.keys():
        changes.append(f"field removed: {fid}")
    merged_into: dict[str, list[str]] = {}
    for fid in sorted(old.fields.keys() & new.fields.keys()):
        a, b = old.fields[fid], new.fields[fid]
        if a.status != b.status:
            changes.append(f"field {fid}: {a.status} -> {b.status}")
            if b.status == "retired" and len(b.successors) > 1:
                changes.append(f"field {fid} split into {', '.join(b.successors)}")
            for successor in b.successors:
                merged_into.setdefault(successor, []).append(fid)
        for attr in ("en", "zh", "tier", "direction", "direction_basis"):
            if getattr(a, attr) != getattr(b, attr):
                changes.append(f"field {fid}: {attr} {getattr(a, attr)!r} -> "
                               f"{getattr(b, attr)!r}")
        old_paths = {p.id for p in a.pathways}
        new_paths = {p.id for p in b.pathways}
        changes += [f"field {fid}: pathway added: {p}" for p in sorted(new_paths - old_paths)]
        changes += [f"field {fid}: pathway removed: {p}" for p in sorted(old_paths - new_paths)]
        for attr in ("keywords_en", "keywords_zh"):
            added = set(getattr(b, attr)) - set(getattr(a, attr))
            removed = set(getattr(a, attr)) - set(getattr(b, attr))
            if added or removed:
                changes.append(f"field {fid}: {attr} +{sorted(added)} -{sorted(removed)}")
    for successor, sources in merged_into.items():
        if len(sources) > 1:
            changes.append(f"fields {', '.join(sources)} merged into {successor}")
    return changes
