"""Configuration: one TOML file, overridden by SCANNER_* environment variables and CLI options.

Precedence, lowest first: built-in defaults, the TOML file, environment variables,
explicit overrides (the CLI's options). Relative paths in the file are resolved
against the file's folder; relative paths from the environment or the CLI against
the current directory.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scanner import PROJECT_ROOT
from scanner.errors import ConfigError
from scanner.tomlfile import read_toml

DEFAULT_CONFIG_NAME = "scanner.toml"
DATA_DIR = PROJECT_ROOT / "data"
_DASK_LOCAL = re.compile(r"local(:[1-9][0-9]*)?")
_DASK_ADDRESS = re.compile(r"((tcp|tls|ucx)://)?[\w.\-\[\]:]+:[0-9]+")


@dataclass(frozen=True)
class FetchSettings:
    """How sources are fetched over HTTP."""

    timeout_s: float = 20.0
    max_bytes: int = 20_000_000
    user_agent: str = "horizon-scanner/0.1 (research horizon scanning; polite nightly fetch)"
    retries: int = 2
    backoff_s: float = 2.0
    default_host_delay_s: float = 1.0
    host_delay_s: Mapping[str, float] = field(
        default_factory=lambda: {"export.arxiv.org": 3.0, "rss.arxiv.org": 3.0}
    )
    max_redirects: int = 5
    retry_after_max_s: float = 30.0  # a longer Retry-After is not waited for: no retry
    max_elements: int = 1_000_000  # '<' (or '{') in a body above which it is not parsed
    parse_timeout_s: float = 60.0  # a parse of a large body is stopped after this; 0: none


@dataclass(frozen=True)
class TopicSettings:
    """How topics are found and kept (the [topics] table)."""

    window_days: int = 365  # items published this many days before the run date
    kinds: tuple[str, ...] = ("paper", "news", "policy")
    together: bool = True  # cluster all kinds together, or each kind apart
    n_components: int = 50  # PCA dimensions before clustering
    n_clusters: int = 0  # 0: chosen from the window's size
    max_clusters: int = 300
    min_topic_size: int = 8  # smaller clusters dissolve; the pool needs this many to give birth
    outlier_mads: float = 3.0  # items this many MADs below their topic's median fit no topic
    recluster_days: int = 7  # full reclustering at most this many days apart
    max_unassigned_share: float = 0.15  # or sooner, when the unassigned share passes this
    dormant_days: int = 60  # a topic with no new item for this long is dormant
    outside_share: float = 0.2  # below this share of members in every field: outside taxonomy
    series_period: str = "month"  # month | week
    seed: int = 0


@dataclass(frozen=True)
class SignalSettings:
    """How signals are computed and ranked (the [signals] table)."""

    period: str = "auto"  # auto (from the data) | month | quarter | half | year
    periods: int = 0  # series length (0: from the data); 30% base, 70% active
    weight_novelty: float = 0.0  # shown, not scored: anti-predictive in the backtests
    # (docs/evaluation.md, issue 17); Rotolo et al.'s attributes; uncertainty is the
    weight_growth: float = 2.0  # confidence factor support / (support + support_k)
    weight_coherence: float = 1.0
    weight_impact: float = 1.0
    weight_terms: float = 1.0  # topics: the share of their items carrying an emerging term
    support_k: float = 10.0
    forecast_periods: int = 0  # periods the growth sub-score's trend forecasts (0: half
    # the series; scanner.signals.forecast)
    trend_half_life: float = 0.0  # periods: the trend discounts older periods by half per
    # half-life (0: the forecast's horizon; far above the series length, e.g. 1000: none)
    convergence_share: float = 0.15  # a topic converges fields it gives this share each
    weight_paper: float = 1.0  # a stream's weight in a composite (0 leaves it out);
    weight_news: float = 1.0  # streams combine by inverse variance times this weight
    weight_policy: float = 1.0


@dataclass(frozen=True)
class TermSettings:
    """How emerging terms are found (the [terms] table; see scanner.term_emergence)."""

    period_months: int = 3  # months per period of a term's series
    active_periods: int = 8  # the active window: the last 8 periods (two years)
    base_periods: int = 4  # the base: up to 4 periods before the active window
    min_active_df: int = 8  # too rare: fewer items in the active window
    min_month_df: int = 2  # too rare: no month with this many items
    max_base_share: float = 0.01  # too common: more than this share of the base's items
    emerged_share: float = 0.001  # emerged: a trailing-year share of the stream this high
    novelty_ratio: float = 1.0  # novelty: base share at most this times the active share
    novelty_fraction: float = 0.5  # novelty: base share at most this x emerged_share
    min_active_periods: int = 4  # persistence: items in this many active periods
    min_venues: int = 3  # community: distinct venues (categories, sources)
    max_venue_share: float = 1.0  # community: no venue holds more of the active items
    min_growth: float = 1.0  # growth: the share ratio's lower bound above this
    horizon_years: float = 2.0  # growth is judged, and shares projected, this far ahead
    min_doublings: float = 1.0  # growth: the trend's lower bound doubles the share this
    #   many times over the horizon
    confidence: float = 0.9  # of the share ratio's interval
    rank_by: str = "blend"  # blend | low | projected | trend | escore (emergence module)
    venue_slots: float = 1.0  # at most this share of the top terms from one main venue
    nested_overlap: float = 0.5  # fold a nested term holding this share of the other's items
    top: int = 100  # terms kept per stream and run
    young_slots: float = 0.0  # share of the top list given to terms born inside the
    #   window (scanner.terms.young; 0: off)
    young_min_df: int = 3  # young terms: at least this many items in the active window
    min_specificity: float = 0.5  # phrasing: left out unless its items are closer to the
    #   term's embedding than the window's other items are, the AUC's lower bound above
    #   this (0.5: chance; 0: no check; scanner.terms.specificity)
    outside_share: float = 0.2  # below this share of a term's items in every field: outside
    fit_window: bool = True  # a stream younger than the windows: monthly ones over its
    #   history (scanner.terms.windows)
    venue_mix: bool = True  # a venue whose share of the stream shifts tenfold over a window:
    #   its terms' growth against its own items, the rest against the other venues'
    #   (scanner.terms.emergence)


#: Runtimes an embedder can use: the same model converted for OpenVINO
#: (scanner/embed/openvino.py; faster on this CPU, same vectors), or sentence-transformers
#: on torch, or the OpenVINO build quantised to int8 (scanner/embed/int8.py; faster, close
#: but not the same vectors, so they are stored under their own key, MODEL+int8; opt-in,
#: issue #22). The registry names each model's, its first the default.
EMBED_BACKENDS = ("openvino", "openvino-int8", "torch")


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know about where things are."""

    db_path: Path = Path("var/scanner.db")
    sources_file: Path = DATA_DIR / "sources.toml"
    taxonomy_file: Path = DATA_DIR / "taxonomy" / "taxonomy-2025.1.toml"
    model: str = "multilingual-e5-small"
    report_dir: Path = Path("reports")
    model_cache: Path = PROJECT_ROOT / ".cache" / "models"
    embed_threads: int = 0  # 0: one per CPU core
    embed_backend: str = ""  # "": the model's default (registry); else one of EMBED_BACKENDS
    dask: str = ""  # "": in-process; "local[:N]": a LocalCluster; else a scheduler address
    fetch: FetchSettings = field(default_factory=FetchSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    signals: SignalSettings = field(default_factory=SignalSettings)
    terms: TermSettings = field(default_factory=TermSettings)
    config_file: Path | None = None


_TOP_KEYS: dict[str, type] = {
    "db_path": Path,
    "sources_file": Path,
    "taxonomy_file": Path,
    "model": str,
    "report_dir": Path,
    "model_cache": Path,
    "embed_threads": int,
    "embed_backend": str,
    "dask": str,
}
_FETCH_KEYS: dict[str, type] = {
    "timeout_s": float,
    "max_bytes": int,
    "user_agent": str,
    "retries": int,
    "backoff_s": float,
    "default_host_delay_s": float,
    "host_delay_s": dict,
    "max_redirects": int,
    "retry_after_max_s": float,
    "max_elements": int,
    "parse_timeout_s": float,
}
_TOPIC_KEYS: dict[str, type] = {
    "window_days": int, "kinds": list, "together": bool, "n_components": int,
    "n_clusters": int, "max_clusters": int, "min_topic_size": int, "outlier_mads": float,
    "recluster_days": int, "max_unassigned_share": float, "dormant_days": int,
    "outside_share": float, "series_period": str, "seed": int,
}
_SIGNAL_KEYS: dict[str, type] = {
    "period": str, "periods": int, "weight_novelty": float, "weight_growth": float,
    "weight_coherence": float, "weight_impact": float, "weight_terms": float, "support_k": float,
    "forecast_periods": int, "trend_half_life": float, "convergence_share": float,
    "weight_paper": float,
    "weight_news": float, "weight_policy": float,
}
_TERM_KEYS: dict[str, type] = {
    "period_months": int, "active_periods": int, "base_periods": int, "min_active_df": int,
    "min_month_df": int, "max_base_share": float, "novelty_ratio": float,
    "novelty_fraction": float, "emerged_share": float, "horizon_years": float,
    "min_doublings": float,
    "min_active_periods": int, "min_venues": int, "max_venue_share": float,
    "min_growth": float, "confidence": float, "rank_by": str, "venue_slots": float,
    "nested_overlap": float, "top": int, "min_specificity": float,
    "outside_share": float, "fit_window": bool, "venue_mix": bool,
}
#: Tables of the config file and the keys each one takes.
_SECTIONS: dict[str, dict[str, type]] = {"fetch": _FETCH_KEYS, "topics": _TOPIC_KEYS,
                                         "signals": _SIGNAL_KEYS, "terms": _TERM_KEYS}


def _coerce(value: Any, kind: type, where: str) -> Any:
    """Check and convert one value to its declared type, naming where it came from."""
    if kind is Path:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: expected a path string, got {value!r}")
        return Path(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):  # TOML allows nan and inf; no setting means them
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{where}: must not be negative, got {value!r}")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        if value < 0:
            raise ConfigError(f"{where}: must not be negative, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if kind is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of host = seconds, got {value!r}")
        out: dict[str, float] = {}
        for host, seconds in value.items():
            out[str(host)] = _coerce(seconds, float, f"{where}.{host}")
        return out
    raise TypeError(kind)  # pragma: no cover - programming error


def _from_env_string(raw: str, kind: type, name: str) -> Any:
    """Parse an environment variable's text as the declared type."""
    try:
        if kind is float:
            return _coerce(float(raw), float, name)
        if kind is int:
            return _coerce(int(raw), int, name)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}: cannot read {raw!r}: {exc}") from exc
    if kind is bool:
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ConfigError(f"environment variable {name}: expected true or false, got {raw!r}")
        return raw.lower() in ("true", "1")
    if kind is list:
        return tuple(v.strip() for v in raw.split(",") if v.strip())
    if kind is dict:
        raise ConfigError(f"environment variable {name}: tables can only be set in the file")
    return _coerce(raw, kind, f"environment variable {name}")


def load_config(
    path: Path | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Load the configuration.

    Args:
        path: the TOML file; when None, SCANNER_CONFIG or ./scanner.toml if present.
        overrides: top-level keys set explicitly (CLI options); None values are ignored.
        environ: the environment to read SCANNER_* variables from (default os.environ).

    Raises:
        ConfigError: naming the file, line and key of anything wrong.
    """
    env = os.environ if environ is None else environ
    if path is None and env.get("SCANNER_CONFIG"):
        path = env["SCANNER_CONFIG"]
    if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
        path = DEFAULT_CONFIG_NAME

    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {name: {} for name in _SECTIONS}
    config_file: Path | None = None
    if path is not None:
        config_file = Path(path).resolve()
        toml = read_toml(config_file, "config file")
        data = toml.data
        base = config_file.parent
        for key, value in data.items():
            if key in _SECTIONS:
                keys = _SECTIONS[key]
                if not isinstance(value, dict):
                    raise ConfigError(f"{toml.where(key)}: expected a [{key}] table")
                for fkey, fvalue in value.items():
                    if fkey not in keys:
                        raise ConfigError(
                            f"{toml.where(fkey)}: unknown key in [{key}]; "
                            f"known keys: {', '.join(sorted(keys))}"
                        )
                    where = toml.where(fkey)
                    sections[key][fkey] = _coerce(fvalue, keys[fkey], where)
            elif key in _TOP_KEYS:
                value = _coerce(value, _TOP_KEYS[key], toml.where(key))
                top[key] = base / value if isinstance(value, Path) else value
            else:
                raise ConfigError(
                    f"{toml.where(key)}: unknown key; known keys: "
                    f"{', '.join(sorted([*_TOP_KEYS, *_SECTIONS]))}"
                )

    for key, kind in _TOP_KEYS.items():
        name = f"SCANNER_{key.upper()}"
        if env.get(name):
            top[key] = _from_env_string(env[name], kind, name)
    for section, keys in _SECTIONS.items():
        for key, kind in keys.items():
            name = f"SCANNER_{section.upper()}_{key.upper()}"
            if env.get(name):
                sections[section][key] = _from_env_string(env[name], kind, name)

    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _TOP_KEYS:
            raise ConfigError(f"unknown override {key!r}")
        top[key] = _coerce(value if not isinstance(value, Path) else str(value),
                           _TOP_KEYS[key], f"option --{key.replace('_', '-')}")

    backend = str(top.get("embed_backend") or "")
    if backend and backend not in EMBED_BACKENDS:
        names = " nor ".join(repr(b) for b in EMBED_BACKENDS)
        raise ConfigError(f"{config_file or 'configuration'}: embed_backend {backend!r} is "
                          f"neither {names} (or empty: the model's default)")
    dask = str(top.get("dask") or "")
    if dask and not (_DASK_LOCAL if dask.startswith("local") else _DASK_ADDRESS).fullmatch(dask):
        raise ConfigError(f"{config_file or 'configuration'}: dask {top['dask']!r} is neither "
                          "'local', 'local:N' nor a scheduler address like tcp://host:8786")
    topics = replace(TopicSettings(), **sections["topics"])
    _check_topics(topics, config_file)
    signals = replace(SignalSettings(), **sections["signals"])
    if signals.period not in ("auto", "month", "quarter", "half", "year") or \
            0 < signals.periods < 5:
        raise ConfigError(f"{config_file or 'configuration'}, [signals]: period must be auto, "
                          f"month, quarter, half or year and periods 0 (from the data) or at "
                          f"least 5 (got {signals.period!r}, {signals.periods})")
    terms = replace(TermSettings(), **sections["terms"])
    if terms.emerged_share <= 0:
        raise ConfigError(f"{config_file or 'configuration'}, [terms]: emerged_share must be "
                          f"above 0 (got {terms.emerged_share})")
    if terms.active_periods < 4 or terms.period_months < 1 or not 0 < terms.confidence < 1:
        raise ConfigError(f"{config_file or 'configuration'}, [terms]: active_periods must be "
                          f"at least 4, period_months at least 1 and confidence between 0 "
                          f"and 1 (got {terms.active_periods}, {terms.period_months}, "
                          f"{terms.confidence})")
    return replace(Config(), **top, fetch=replace(FetchSettings(), **sections["fetch"]),
                   topics=topics, signals=signals, terms=terms, config_file=config_file)


def _check_topics(settings: TopicSettings, config_file: Path | None) -> None:
    """Values of [topics] that are the right type but cannot work."""
    where = f"{config_file or 'configuration'}, [topics]"
    known_kinds = {"paper", "news", "policy"}
    if not settings.kinds or set(settings.kinds) - known_kinds:
        raise ConfigError(f"{where} kinds: {list(settings.kinds)} must name some of "
                          f"{sorted(known_kinds)}")
    if settings.series_period not in ("month", "week"):
        raise ConfigError(f"{where} series_period: {settings.series_period!r} is not "
                          f"'month' or 'week'")
    if settings.min_topic_size < 2 or settings.window_days < 1 or settings.n_components < 2:
        raise ConfigError(f"{where}: min_topic_size must be at least 2, window_days at least "
                          f"1 and n_components at least 2")
