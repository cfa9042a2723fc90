"""The measures' field taxonomy as versioned data: directions -> fields -> pathways.

A taxonomy version is one TOML file under data/taxonomy/. Loading validates it fully
(duplicate ids, unknown directions or tiers, missing languages, dangling pathways or
successors, missing citations) and names the file, line and key of each problem.
`verify_citations` checks every quote against the source documents themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanner.errors import ConfigError
from scanner.tomlfile import TomlText, read_toml

CLAIMS = ("field", "tier", "direction", "pathway")



BASES = ("document", "judgment")



STATUSES = ("active", "retired")



_TOP_KEYS = {"version", "date", "title_zh", "title_en", "previous", "document", "direction",
             "tier", "field", "pathway"}



_FIELD_KEYS = {"id", "zh", "en", "aliases_zh", "aliases_en", "keywords_zh", "keywords_en",
               "exclude_zh", "exclude_en", "description_zh", "description_en", "direction",
               "direction_basis", "tier", "citations", "pathways", "status", "successors", "note"}



_PATHWAY_KEYS = {"id", "zh", "en", "keywords_en", "keywords_zh", "citation", "basis", "field",
                 "note"}



@dataclass(frozen=True)
class Citation:
    """Where a claim comes from: document file, clause and a verbatim quote."""

    doc: str
    clause: str
    quote: str
    claim: str = "field"



@dataclass(frozen=True)
class Pathway:
    """A technology pathway within a field."""

    id: str
    field_id: str
    zh: str
    en: str
    keywords_en: tuple[str, ...]
    keywords_zh: tuple[str, ...]
    citation: Citation | None
    basis: str



@dataclass(frozen=True)
class Field:
    """One field of the taxonomy, with its keywords, tier, direction and evidence."""

    id: str
    zh: str
    en: str
    aliases_zh: tuple[str, ...]
    aliases_en: tuple[str, ...]
    keywords_zh: tuple[str, ...]
    keywords_en: tuple[str, ...]
    exclude_zh: tuple[str, ...]
    exclude_en: tuple[str, ...]
    description_zh: str
    description_en: str
    direction: str
    direction_basis: str
    tier: str | None
    citations: tuple[Citation, ...]
    pathways: tuple[Pathway, ...]
    status: str = "active"
    successors: tuple[str, ...] = ()



@dataclass(frozen=True)
class Label:
    """A direction or a tier: id and names in both languages."""

    id: str
    zh: str
    en: str
    citations: tuple[Citation, ...] = ()



@dataclass
class Taxonomy:
    """One version of the taxonomy."""

    version: str
    date: str
    title_zh: str
    title_en: str
    path: Path
    documents: dict[str, str]  # file name -> title
    directions: dict[str, Label]
    tiers: dict[str, Label]
    fields: dict[str, Field] = field(default_factory=dict)
    previous: str = ""

    @property
    def active_fields(self) -> list[Field]:
        """Fields that are not retired, in file order."""
        return [f for f in self.fields.values() if f.status == "active"]

    @property
    def chinese_terms(self) -> list[str]:
        """The active fields' Chinese names, keywords and aliases: the words Chinese
        segmentation (topic keywords, emerging terms) keeps whole."""
        return [w for f in self.active_fields for w in (f.zh, *f.keywords_zh, *f.aliases_zh)]

    def pathway(self, field_id: str, pathway_id: str) -> Pathway | None:
        """A pathway by field and id."""
        return next((p for p in self.fields[field_id].pathways if p.id == pathway_id), None)



class _Reader:
    """Validation helpers over the file's TOML text, to name lines."""

    def __init__(self, toml: TomlText) -> None:
        self.toml = toml
        self.path = toml.path

    def fail(self, where: str, key: str, message: str, anchor: str | None = None) -> ConfigError:
        line = self.toml.line_of(anchor) if anchor else None
        return self.toml.error(message, key, line or 0, where)

    def text_value(self, entry: dict[str, Any], key: str, where: str, anchor: str) -> str:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, key, "missing or empty (both languages are required)", anchor)
        return value.strip()

    def list_value(self, entry: dict[str, Any], key: str, where: str, anchor: str,
                   required: bool = False) -> tuple[str, ...]:
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(where, key, "must be a list of non-empty strings", anchor)
        if required and not value:
            raise self.fail(where, key, "must not be empty (both languages are required)", anchor)
        return tuple(value)

    def citation(self, raw: Any, where: str, anchor: str, documents: dict[str, str],
                 default_claim: str = "field") -> Citation:
        if not isinstance(raw, dict):
            raise self.fail(where, "citations", "each citation is a table {doc, clause, quote}",
                            anchor)
        for key in ("doc", "clause", "quote"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise self.fail(where, f"citation.{key}", "missing or empty", anchor)
        if raw["doc"] not in documents:
            raise self.fail(where, "citation.doc", f"unknown document {raw['doc']!r}; "
                            f"declare it in a [[document]] table", anchor)
        claim = raw.get("claim", default_claim)
        if claim not in CLAIMS:
            raise self.fail(where, "citation.claim", f"{claim!r} is not one of {CLAIMS}", anchor)
        return Citation(doc=raw["doc"], clause=raw["clause"], quote=raw["quote"], claim=claim)



def _labels(reader: _Reader, entries: Any, kind: str, documents: dict[str, str]
            ) -> dict[str, Label]:
    if not isinstance(entries, list) or not entries:
        raise reader.fail(f"[[{kind}]]", kind, "at least one is required")
    out: dict[str, Label] = {}
    for number, entry in enumerate(entries, start=1):
        anchor = f'id = "{entry.get("id")}"'
        where = f"{kind} #{number}"
        label_id = reader.text_value(entry, "id", where, anchor)
        if label_id in out:
            raise reader.fail(where, "id", f"duplicate {kind} id {label_id!r}", anchor)
        out[label_id] = Label(
            id=label_id, zh=reader.text_value(entry, "zh", where, anchor),
            en=reader.text_value(entry, "en", where, anchor),
            citations=tuple(reader.citation(c, where, anchor, documents, kind)
                            for c in entry.get("citations", [])),
        )
    return out



def _pathway(reader: _Reader, raw: Any, field_id: str, where: str, anchor: str,
             documents: dict[str, str]) -> Pathway:
    if not isinstance(raw, dict):
        raise reader.fail(where, "pathways", "each pathway is a table", anchor)
    extra = set(raw) - _PATHWAY_KEYS
    if extra:
        raise reader.fail(where, sorted(extra)[0], "unknown key in a pathway", anchor)
    pid = reader.text_value(raw, "id", where, anchor)
    where = f"{where}, pathway {pid!r}"
    citation = raw.get("citation")
    basis = raw.get("basis", "document" if citation else None)
    if basis not in BASES:
        raise reader.fail(where, "basis", "a pathway needs a citation or basis = \"judgment\"",
                          anchor)
    if basis == "document" and not citation:
        raise reader.fail(where, "citation", "basis 'document' needs a citation", anchor)
    return Pathway(
        id=pid, field_id=field_id, zh=reader.text_value(raw, "zh", where, anchor),
        en=reader.text_value(raw, "en", where, anchor),
        keywords_en=reader.list_value(raw, "keywords_en", where, anchor, required=True),
        keywords_zh=reader.list_value(raw, "keywords_zh", where, anchor, required=True),
        citation=reader.citation(citation, where, anchor, documents, "pathway")
        if citation else None,
        basis=basis,
    )



def _field(reader: _Reader, entry: dict[str, Any], number: int, taxonomy: Taxonomy) -> Field:
    anchor = f'id = "{entry.get("id")}"'
    where = f"field #{number}" + (f" ({entry.get('id')})" if entry.get("id") else "")
    extra = set(entry) - _FIELD_KEYS
    if extra:
        raise reader.fail(where, sorted(extra)[0], "unknown key", anchor)
    fid = reader.text_value(entry, "id", where, anchor)
    direction = reader.text_value(entry, "direction", where, anchor)
    if direction not in taxonomy.directions:
        raise reader.fail(where, "direction", f"unknown direction {direction!r}; known: "
                          f"{', '.join(taxonomy.directions)}", anchor)
    basis = entry.get("direction_basis")
    if basis not in BASES:
        raise reader.fail(where, "direction_basis", f"must be one of {BASES}", anchor)
    tier = entry.get("tier")
    if tier is not None and tier not in taxonomy.tiers:
        raise reader.fail(where, "tier", f"unknown tier {tier!r}; known: "
                          f"{', '.join(taxonomy.tiers)}", anchor)
    status = entry.get("status", "active")
    if status not in STATUSES:
        raise reader.fail(where, "status", f"must be one of {STATUSES}", anchor)
    citations = tuple(reader.citation(c, where, anchor, taxonomy.documents)
                      for c in entry.get("citations", []))
    claims = {c.claim for c in citations}
    if "field" not in claims:
        raise reader.fail(where, "citations", "a field needs a citation with claim = \"field\"",
                          anchor)
    if tier and "tier" not in claims:
        raise reader.fail(where, "citations", "the tier needs a citation with claim = \"tier\"",
                          anchor)
    if basis == "document" and "direction" not in claims:
        raise reader.fail(where, "citations", "direction_basis 'document' needs a citation "
                          "with claim = \"direction\" (or mark the direction as judgment)", anchor)
    pathways = tuple(_pathway(reader, raw, fid, where, anchor, taxonomy.documents)
                     for raw in entry.get("pathways", []))
    seen: set[str] = set()
    for pathway in pathways:
        if pathway.id in seen:
            raise reader.fail(where, "pathways", f"duplicate pathway id {pathway.id!r}", anchor)
        seen.add(pathway.id)
    return Field(
        id=fid, zh=reader.text_value(entry, "zh", where, anchor),
        en=reader.text_value(entry, "en", where, anchor),
        aliases_zh=reader.list_value(entry, "aliases_zh", where, anchor),
        aliases_en=reader.list_value(entry, "aliases_en", where, anchor),
        keywords_zh=reader.list_value(entry, "keywords_zh", where, anchor, required=True),
        keywords_en=reader.list_value(entry, "keywords_en", where, anchor, required=True),
        exclude_zh=reader.list_value(entry, "exclude_zh", where, anchor),
        exclude_en=reader.list_value(entry, "exclude_en", where, anchor),
        description_zh=reader.text_value(entry, "description_zh", where, anchor),
        description_en=reader.text_value(entry, "description_en", where, anchor),
        direction=direction, direction_basis=basis, tier=tier, citations=citations,
        pathways=pathways, status=status,
        successors=reader.list_value(entry, "successors", where, anchor),
    )



def load_taxonomy(path: Path | str) -> Taxonomy:
    """Read and validate one taxonomy version.

    Raises:
        ConfigError: naming the file, line and key of the first problem found.
    """
    path = Path(path)
    toml = read_toml(path, "taxonomy file",
                     "; set taxonomy_file in the config or pass --taxonomy")
    data = toml.data
    reader = _Reader(toml)
    extra = set(data) - _TOP_KEYS
    if extra:
        key = sorted(extra)[0]
        raise reader.fail("top level", key, "unknown key", f"{key} =")
    for key in ("version", "date", "title_zh", "title_en"):
        reader.text_value(data, key, "top level", f"{key} =")
    documents: dict[str, str] = {}
    for entry in data.get("document", []):
        file_name = reader.text_value(entry, "file", "document", f'file = "{entry.get("file")}"')
        documents[file_name] = str(entry.get("title", ""))
    taxonomy = Taxonomy(
        version=data["version"], date=str(data["date"]), title_zh=data["title_zh"],
        title_en=data["title_en"], path=path, documents=documents,
        directions=_labels(reader, data.get("direction"), "direction", documents),
        tiers=_labels(reader, data.get("tier"), "tier", documents),
        previous=str(data.get("previous", "")),
    )
    entries = data.get("field")
    if not isinstance(entries, list) or not entries:
        raise reader.fail("top level", "field", "at least one [[field]] is required")
    for number, entry in enumerate(entries, start=1):
        parsed = _field(reader, entry, number, taxonomy)
        if parsed.id in taxonomy.fields:
            raise reader.fail(f"field #{number}", "id", f"duplicate field id {parsed.id!r}",
                              f'id = "{parsed.id}"')
        taxonomy.fields[parsed.id] = parsed
    _attach_loose_pathways(reader, data.get("pathway", []), taxonomy)
    for f in taxonomy.fields.values():
        for successor in f.successors:
            if successor not in taxonomy.fields:
                raise reader.fail(f"field {f.id!r}", "successors",
                                  f"dangling successor {successor!r}: no such field",
                                  f'id = "{f.id}"')
    return taxonomy



def taxonomy_key(taxonomy: Taxonomy) -> str:
    """The version scores are stored under: version id plus a digest of the file's bytes,
    so an edit made without a new version id still counts as a different taxonomy."""
    import hashlib

    digest = hashlib.sha256(taxonomy.path.read_bytes()).hexdigest()[:8]
    return f"{taxonomy.version}@{digest}"



def _attach_loose_pathways(reader: _Reader, entries: Any, taxonomy: Taxonomy) -> None:
    """Top-level [[pathway]] tables name their field; a later version can add pathways so."""
    for number, raw in enumerate(entries or [], start=1):
        anchor = f'id = "{raw.get("id")}"'
        field_id = raw.get("field")
        if field_id not in taxonomy.fields:
            raise reader.fail(f"pathway #{number}", "field",
                              f"dangling pathway: field {field_id!r} does not exist", anchor)
        owner = taxonomy.fields[field_id]
        pathway = _pathway(reader, raw, field_id, f"pathway #{number}", anchor,
                           taxonomy.documents)
        if any(p.id == pathway.id for p in owner.pathways):
            raise reader.fail(f"pathway #{number}", "id",
                              f"duplicate pathway id {pathway.id!r} in {field_id}", anchor)
        taxonomy.fields[field_id] = Field(**{**owner.__dict__,
                                             "pathways": (*owner.pathways, pathway)})
