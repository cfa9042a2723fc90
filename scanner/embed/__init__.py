"""Embed: the model registry, the backends that run a model, and the embed loop.

`registry` reads models/registry.toml; `service` holds the Embedder interface, the
loader and the store loop; `st_backend` runs a model on sentence-transformers;
`openvino` is the default backend (the model converted offline); `build` rebuilds
multilingual-e5-small from the weights its registry package carries.
"""

from scanner.embed.registry import load_registry, model_folder, model_spec, openvino_model_folder
from scanner.embed.service import (
    Embedder,
    EmbedResult,
    embed_new_items,
    item_text,
    load_embedder,
)

__all__ = ["EmbedResult", "Embedder", "embed_new_items", "item_text", "load_embedder",
           "load_registry", "model_folder", "model_spec", "openvino_model_folder"]
