"""One run context: a run's config, parsed taxonomy, store handle and model, each loaded
once, when first needed, and shared by every stage of the run."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from scanner.config import Config
from scanner.store import Store
from scanner.taxonomy import Taxonomy, load_taxonomy, taxonomy_key


def configured_embedder(config: Config) -> Any:
    """The configured model on the configured backend, threads and cache (a fresh load)."""
    from scanner.embed import load_embedder

    return load_embedder(config.model, config.embed_threads or None, config.model_cache,
                         config.embed_backend)


class RunContext:
    """What one run holds. Stages take it instead of rebuilding their resources.

    Args:
        config: the run's configuration.
        run_date: the night the run is for (YYYY-MM-DD); None where a command picks it.
        run_id: set by run_steps once the run row is open.

    A plain class rather than a dataclass, so Prefect passes it to tasks as it is
    instead of walking into its store connection.
    """

    def __init__(self, config: Config, run_date: str | None = None,
                 run_id: str | None = None) -> None:
        self._config = config
        self._settled = False
        self.run_date = run_date
        self.run_id = run_id
        self.stages: list[dict[str, Any]] = []
        self.model_loads = 0
        self._store: Store | None = None
        self._embedder: Any = None

    @property
    def config(self) -> Config:
        """The run's configuration, its embedding backend settled against the store on
        first use (`scanner.embed.registry.settle_backend`): with no backend named, a
        store holding only float32 vectors of the model keeps float32."""
        if not self._settled:
            from scanner.embed.registry import settle_backend

            self._settled = True
            self._config = settle_backend(self._config, self._store_has_vectors,
                                          str(self._config.db_path))
        return self._config

    def _store_has_vectors(self, key: str) -> bool:
        """Whether the store holds any vector under `key` (a store not yet created
        holds none, and is not created by asking)."""
        if not Path(self._config.db_path).is_file():
            return False
        return self.store.has_embeddings(key)

    @cached_property
    def taxonomy(self) -> Taxonomy:
        """The configured taxonomy, parsed once per run."""
        return load_taxonomy(self.config.taxonomy_file)

    @cached_property
    def taxonomy_key(self) -> str:
        """The taxonomy's content key (assignments are stored under it)."""
        return taxonomy_key(self.taxonomy)

    @cached_property
    def stored_model(self) -> str:
        """What this run's vectors, assignments, topics, terms and signals are stored
        under (scanner.embed.stored_model; the registry is read once per run)."""
        from scanner.embed.registry import stored_model

        return stored_model(self.config)

    @property
    def store(self) -> Store:
        """The run's store handle, opened (and its schema checked) once."""
        if self._store is None:
            self._store = Store(self._config.db_path)
        return self._store

    @property
    def has_embedder(self) -> bool:
        """Whether the model has been loaded in this run."""
        return self._embedder is not None

    def embedder(self) -> Any:
        """The configured model, loaded on first use and kept for the run."""
        if self._embedder is None:
            from scanner.embed import key_of

            embedder = configured_embedder(self.config)
            if key_of(embedder) != self.stored_model:  # never mix vectors in a store
                raise RuntimeError(f"the loaded model's vectors go under {key_of(embedder)}"
                                   f", this run's under {self.stored_model}")
            self._embedder = embedder
            self.model_loads += 1
        return self._embedder

    def close(self) -> None:
        """Close the store handle (the model is dropped with the context)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
