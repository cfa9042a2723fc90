"""The field taxonomy: validation errors, citations checked against the documents, diffs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner import PROJECT_ROOT
from scanner.cli import cli
from scanner.errors import ConfigError
from scanner.taxonomy import load_taxonomy
from scanner.taxonomy_checks import diff_taxonomies, verify_citations
from tests.support.paths import SHARED

TAXONOMY = PROJECT_ROOT / "data" / "taxonomy" / "taxonomy-2025.1.toml"
FIELD_IDS = [
    "cell-gene-therapy", "brain-computer-interface", "bio-manufacturing",
    "embodied-intelligence", "fourth-gen-semiconductors", "silicon-photonics", "6g",
    "brain-inspired-intelligence", "quantum-technology", "controlled-nuclear-fusion",
    "regenerative-medicine", "biosafety", "synthetic-biology", "intelligent-computing",
    "general-ai", "extended-reality", "advanced-nuclear-energy", "new-energy-storage",
    "deep-sea", "aerospace", "high-end-membranes", "high-performance-composites",
    "non-silicon-chip-materials",
]


def test_field_ids_directions_and_tiers() -> None:
    tax = load_taxonomy(TAXONOMY)
    assert list(tax.fields) == FIELD_IDS
    assert set(tax.directions) == {"future-manufacturing", "future-information",
                                   "future-materials", "future-energy", "future-space",
                                   "future-health"}
    tiers = {f.id: f.tier for f in tax.fields.values() if f.tier}
    assert len(tiers) == 11  # the 2025 Measures name eleven fields in three tiers
    assert tiers["brain-computer-interface"] == "industrialization"
    assert tiers["silicon-photonics"] == "product-prototyping"
    assert tiers["controlled-nuclear-fusion"] == "frontier-exploration"
    photonics = {p.id for p in tax.fields["silicon-photonics"].pathways}
    assert {"optical-interconnect", "optical-computing", "optical-sensing"} <= photonics
    assert "hts-magnets" in {p.id for p in tax.fields["controlled-nuclear-fusion"].pathways}
    for f in tax.fields.values():
        assert f.zh and f.en and f.description_zh and f.description_en
        assert f.keywords_zh and f.keywords_en and f.pathways


def test_every_citation_is_quoted_verbatim_from_its_document() -> None:
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is missing (expected ../shared beside the repo root)")
    assert verify_citations(load_taxonomy(TAXONOMY), seeds) == []


def test_a_wrong_quote_is_caught(tmp_path: Path) -> None:
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is missing")
    text = TAXONOMY.read_text(encoding="utf-8").replace("加速布局量子科技", "加速布局量子计算", 1)
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    problems = verify_citations(load_taxonomy(path), seeds)
    assert problems and "quote not found" in problems[0]


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = TAXONOMY.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "match"), [
    ('id = "brain-computer-interface"', 'id = "cell-gene-therapy"', "duplicate field id"),
    ('direction = "future-energy"', 'direction = "future-weather"', "unknown direction"),
    ('description_zh = "在大脑', 'description_zz = "在大脑', "unknown key"),
    ('zh = "脑机接口"\n', 'zh = ""\n', "key 'zh': missing or empty"),
    ('tier = "frontier-exploration"', 'tier = "someday"', "unknown tier"),
    ('"oncolytic-viruses"', '"gene-editing"', "duplicate pathway id"),
    (', basis = "judgment" },', ' },', "needs a citation or basis"),
    ('doc = "001_4ef8b0a580c79f48.txt", clause = "二、(一)1', 'doc = "999.txt", clause = "x',
     "unknown document"),
])
def test_broken_taxonomies_name_file_line_and_key(tmp_path: Path, old: str, new: str,
                                                  match: str) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(ConfigError, match=match) as info:
        load_taxonomy(path)
    assert re.search(rf"{re.escape(str(path))}, line \d+", str(info.value))


def test_dangling_pathway_and_successor(tmp_path: Path) -> None:
    text = TAXONOMY.read_text(encoding="utf-8")
    path = tmp_path / "dangling.toml"
    path.write_text(text + '\n[[pathway]]\nid = "x"\nfield = "weather-control"\nzh = "天气"\n'
                    'en = "Weather"\nkeywords_en = ["rain"]\nkeywords_zh = ["雨"]\n'
                    'basis = "judgment"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="dangling pathway"):
        load_taxonomy(path)
    path.write_text(text.replace('id = "biosafety"\n', 'id = "biosafety"\nstatus = "retired"\n'
                                 'successors = ["nowhere"]\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match="dangling successor"):
        load_taxonomy(path)


def test_diff_reports_added_split_and_pathway_changes(tmp_path: Path) -> None:
    text = TAXONOMY.read_text(encoding="utf-8").replace('version = "2025.1"',
                                                        'version = "2026.1"')
    text = text.replace('id = "general-ai"\n', 'id = "general-ai"\nstatus = "retired"\n'
                        'successors = ["intelligent-computing", "embodied-intelligence"]\n')
    text += ('\n[[pathway]]\nid = "photonic-quantum"\nfield = "quantum-technology"\n'
             'zh = "光量子计算"\nen = "Photonic quantum computing"\n'
             'keywords_en = ["photonic quantum"]\nkeywords_zh = ["光量子"]\n'
             'basis = "judgment"\n')
    new = tmp_path / "taxonomy-2026.1.toml"
    new.write_text(text, encoding="utf-8")
    changes = diff_taxonomies(load_taxonomy(TAXONOMY), load_taxonomy(new))
    assert "field general-ai: active -> retired" in changes
    assert "field general-ai split into intelligent-computing, embodied-intelligence" in changes
    assert "field quantum-technology: pathway added: photonic-quantum" in changes
    result = CliRunner().invoke(cli, ["taxonomy", "diff", str(TAXONOMY), str(new)])
    assert result.exit_code == 0 and "2025.1 -> 2026.1: 3 change(s)" in result.output


def test_cli_show_and_validate(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["taxonomy", "show", "--lang", "zh"])
    assert shown.exit_code == 0 and "可控核聚变" in shown.output and "高温超导磁体" in shown.output
    english = runner.invoke(cli, ["taxonomy", "show", "--lang", "en", "--no-pathways"])
    assert "Controlled nuclear fusion" in english.output and "Tokamak" not in english.output
    bad = _broken(tmp_path, 'direction = "future-energy"', 'direction = "nope"')
    result = runner.invoke(cli, ["taxonomy", "validate", str(bad)])
    assert result.exit_code == 1 and "unknown direction 'nope'" in result.output
