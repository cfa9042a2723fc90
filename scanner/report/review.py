"""The panel's answers: verdicts in, effects on the next run, verdicts out.

A panel fills in the report's review.csv (entry_id, kind, entity_id, item_id, title,
verdict, reviewer, note) and imports it. Kinds and verdicts:

- item-field: relevant | irrelevant. Stored in the assignment verdicts, which train the
  per-field classifiers (scanner.assign.VerdictModels) of the next assignment.
- topic-new-field: accept | reject. A rejected topic leaves the watchlist; an accepted
  one produces a draft taxonomy version with the topic as a proposed field.
- field-priority: promote | keep | watch | retire, with a note; shown back in reports.

Verdicts are appended, never overwritten: the same verdict again is skipped as a
duplicate, a different one from the same reviewer is stored as a change and reported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError

VERDICTS: dict[str, tuple[str, ...]] = {
    "item-field": ("relevant", "irrelevant"),
    "topic-new-field": ("accept", "reject"),
    "field-priority": ("promote", "keep", "watch", "retire"),
}


@dataclass
class ImportResult:
    """What an import did, row by row."""

    added: int = 0
    changed: int = 0
    duplicates: int = 0
    blank: int = 0
    errors: list[str] = field(default_factory=list)
    encoding: str = "utf-8"  # how the sheet was read: utf-8 (with or without BOM) or gb18030


def read_sheet_text(path: Path) -> tuple[str, str]:
    """A sheet's text and its encoding: UTF-8 (a BOM allowed), else GB18030 (which reads
    GBK and GB2312, as Excel on Chinese Windows saves CSV)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"review sheet {path} cannot be read: {exc}") from exc
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise ConfigError(f"review sheet {path} is neither UTF-8 nor GBK/GB18030: "
                              f"{utf8_error}") from utf8_error


def check_verdict(row: dict[str, str], where: str) -> str | None:
    """The problem with one verdict row, naming `where` it is; None when it is valid."""
    kind, verdict = row.get("kind", "").strip(), row.get("verdict", "").strip().lower()
    if kind not in VERDICTS:
        return f"{where}: unknown kind {kind!r}; known: {', '.join(VERDICTS)}"
    if verdict not in VERDICTS[kind]:
        return f"{where}: verdict {verdict!r} for {kind}; use one of {', '.join(VERDICTS[kind])}"
    if not row.get("reviewer", "").strip():
        return f"{where}: a verdict needs a reviewer name"
    if kind == "item-field" and not row.get("item_id", "").strip():
        return f"{where}: an item-field verdict needs item_id"
    return None


def check_known(store: Any, row: dict[str, str], where: str,
                field_ids: Sequence[str]) -> str | None:
    """The problem with a valid verdict row's ids: an item, topic or field the store and
    taxonomy do not know (a typo would store a verdict that no report can show)."""
    kind, entity = row.get("kind", "").strip(), row.get("entity_id", "").strip()
    if kind in ("item-field", "field-priority") and entity not in field_ids:
        return f"{where}: no field {entity!r} in the taxonomy"
    if kind == "item-field" and store.item(row.get("item_id", "").strip()) is None:
        return f"{where}: no item {row.get('item_id', '').strip()!r} in the store"
    if kind == "topic-new-field" and store.topic(entity) is None:
        return f"{where}: no topic {entity!r} in the store"
    return None


def add_verdict(store: Any, row: dict[str, str], report_date: str | None = None) -> str:
    """Store one verdict; returns 'added', 'changed' or 'duplicate'."""
    kind, entity = row["kind"].strip(), row["entity_id"].strip()
    verdict, reviewer = row["verdict"].strip().lower(), row["reviewer"].strip()
    entity_key = f"{row.get('item_id', '').strip()}:{entity}" if kind == "item-field" \
        else entity
    previous = store.newest_panel_verdict(kind, entity_key, reviewer)
    if previous and previous["verdict"] == verdict and \
            (previous["note"] or "") == (row.get("note") or "").strip():
        return "duplicate"
    store.add_panel_verdict({"entry_id": row.get("entry_id") or f"{kind}:{entity_key}",
                             "kind": kind, "entity_id": entity_key, "verdict": verdict,
                             "reviewer": reviewer, "note": (row.get("note") or "").strip(),
                             "report_date": report_date})
    if kind == "item-field":
        store.add_verdict(row["item_id"].strip(), entity, verdict == "relevant", reviewer,
                          (row.get("note") or "").strip())
    return "changed" if previous else "added"


def import_sheet(store: Any, path: Path, report_date: str | None = None,
                 field_ids: Sequence[str] | None = None) -> ImportResult:
    """Import a filled-in review.csv; rows without a verdict are skipped as blank.

    Every row is checked before any is stored (with `field_ids`, also that its item,
    topic and field exist): one bad row stores nothing.
    """
    text, encoding = read_sheet_text(path)
    reader = csv.DictReader(io.StringIO(text))
    # a short row's missing cells are None, an overlong row's extra cells sit under None
    rows = [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    missing = {"kind", "entity_id", "verdict", "reviewer"} - set(reader.fieldnames or ())
    if missing:
        raise ConfigError(f"review sheet {path}: missing columns {sorted(missing)}")
    result = ImportResult(encoding=encoding)
    filled = []
    for number, row in enumerate(rows, start=2):
        if not (row.get("verdict") or "").strip():
            result.blank += 1
            continue
        where = f"{path}, line {number}"
        problem = check_verdict(row, where)
        if problem is None and field_ids is not None:
            problem = check_known(store, row, where, field_ids)
        if problem:
            result.errors.append(problem)
        filled.append(row)
    if result.errors:
        raise ConfigError("review sheet not imported:\n" + "\n".join(result.errors[:20]))
    with store.transaction():  # the whole sheet, or nothing of it
        for row in filled:
            outcome = add_verdict(store, row, report_date)
            if outcome == "added":
                result.added += 1
            elif outcome == "changed":
                result.changed += 1
            else:
                result.duplicates += 1
    return result


def export_sheet(store: Any) -> str:
    """Every panel verdict as CSV, oldest first."""
    from scanner.report.sheets import csv_cell  # sheets imports this module's VERDICTS

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["id", "created_at", "report_date", "entry_id", "kind", "entity_id", "verdict",
               "reviewer", "note"]
    writer.writerow(columns)
    for v in store.panel_verdicts():  # reviewers' notes are typed text: no formulas
        writer.writerow([csv_cell(v[c]) for c in columns])
    return buffer.getvalue()


def newest_verdicts(store: Any, kind: str) -> dict[str, dict[str, Any]]:
    """Each entity's newest verdict of a kind, whoever gave it: verdict, reviewer, date
    (YYYY-MM-DD) and note."""
    return {v["entity_id"]: {"verdict": v["verdict"], "reviewer": v["reviewer"],
                             "date": (v["created_at"] or "")[:10], "note": v["note"]}
            for v in store.panel_verdicts(kind)}


def _newest_topic_verdicts(store: Any) -> dict[str, str]:
    """Each topic's newest new-field verdict, whoever gave it."""
    return {t: v["verdict"] for t, v in newest_verdicts(store, "topic-new-field").items()}


def rejected_topics(store: Any) -> set[str]:
    """Topics whose newest verdict rejects them as a new-field candidate."""
    return {t for t, verdict in _newest_topic_verdicts(store).items() if verdict == "reject"}


def accepted_topics(store: Any) -> list[str]:
    """Topics whose newest verdict accepts them as a new-field candidate."""
    return sorted(t for t, verdict in _newest_topic_verdicts(store).items()
                  if verdict == "accept")


def draft_taxonomy(taxonomy_path: Path, topics: Iterable[dict[str, Any]], taxonomy: Any,
                   out_dir: Path, date: str) -> Path:
    """A draft taxonomy version: the current file plus one proposed field per accepted topic.

    The draft is for the panel to edit and approve: names and keywords come from the
    topic's keywords, the direction from its best field, and its citation points at the
    panel's review, declared as a document that is not among the seeds: the draft loads
    and diffs (`scanner taxonomy diff`), but `scanner taxonomy validate --seeds` fails on
    it until a real source is cited. That is deliberate: a draft is not a version.
    """
    import tomllib

    from scanner.report.enrich import topic_label_zh

    base = taxonomy_path.read_text(encoding="utf-8")
    version = f"{taxonomy.version}-draft-{date}"
    blocks = [f"\n# ---- proposed by panel review of {date} (draft: edit, cite, approve) ----\n"]
    for topic in topics:
        words = topic.get("keywords") or {}
        en = list(words.get("en") or [])
        zh = list(words.get("zh") or words.get("zh_summaries") or [])
        best = topic.get("best_field")
        direction = taxonomy.fields[best].direction if best in taxonomy.fields else \
            next(iter(taxonomy.directions))
        name_en = " / ".join(en[:3]) or topic["id"]
        # no Chinese keywords: the taxonomy's term for it, else marked as still to be named
        label_zh = topic_label_zh({"keywords": words}, taxonomy)[0] if not zh else None
        name_zh = "、".join(zh[:3]) or label_zh or f"待命名（英文：{name_en}）"
        about_zh = f"专家组审议提出的候选领域（主题 {topic['id']}），待补充说明与依据。"
        about_en = (f"Candidate field proposed by the panel from topic {topic['id']}; "
                    "description and sources to be added.")
        citation = (f'{{ claim = "field", doc = "panel-review-{date}.txt", clause = '
                    f'{_toml_str("review " + date)}, '
                    f'quote = {_toml_str("accepted topic " + topic["id"])} }}')
        blocks.append("\n".join([
            "[[field]]", f'id = "candidate-{topic["id"].lower()}"',
            f"zh = {_toml_str(name_zh)}", f"en = {_toml_str(name_en)}",
            f"keywords_en = {_toml_list(en[:10] or [name_en])}",
            f"keywords_zh = {_toml_list(zh[:10] or [name_zh])}",
            f"description_zh = {_toml_str(about_zh)}", f"description_en = {_toml_str(about_en)}",
            f'direction = "{direction}"', 'direction_basis = "judgment"',
            f"citations = [ {citation} ]", "", ""]))
    blocks.append("\n".join([
        "[[document]]", f'id = "panel-review-{date}"', f'file = "panel-review-{date}.txt"',
        f'title = "Panel review of {date} (not a seed document: cite a source before approval)"',
        'language = "en"', ""]))
    text = base.replace(f'version = "{taxonomy.version}"', f'version = "{version}"', 1)
    text = re.sub(r'^previous = ".*"$', f'previous = "{taxonomy.version}"', text, count=1,
                  flags=re.MULTILINE) + "".join(blocks)
    tomllib.loads(text)  # the draft is at least well-formed TOML
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"taxonomy-{version}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _toml_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"
