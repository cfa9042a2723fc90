"""Embed: the model registry, the backends that run a model, and the embed loop.

`registry` reads models/registry.toml; `service` holds the Embedder interface, the
loader and the store loop; `st_backend` runs a model on sentence-transformers;
`openvino` the model converted offline (float32); `int8` its int8 build (NNCF,
opt-in); `build` rebuilds multilingual-e5-small from the weights its registry package
carries. `stored_model(config)` is what the configured model's vectors, assignments,
topics and calibrator are stored under (MODEL, or MODEL+int8).
"""

from scanner.embed.registry import (
    INT8_BACKEND,
    embedding_key,
    int8_model_folder,
    load_registry,
    model_folder,
    model_spec,
    openvino_model_folder,
    stored_model,
)
from scanner.embed.service import (
    Embedder,
    EmbedResult,
    embed_new_items,
    item_text,
    key_of,
    load_embedder,
)

__all__ = ["INT8_BACKEND", "EmbedResult", "Embedder", "embed_new_items", "embedding_key",
           "int8_model_folder", "item_text", "key_of", "load_embedder", "load_registry",
           "model_folder", "model_spec", "openvino_model_folder", "stored_model"]
