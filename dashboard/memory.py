"""How much memory llama.cpp needs to run a model: weights, KV cache and compute/output buffers.

Pure domain logic (no Panel). Quick use::

    from dashboard.memory import ModelSpec, estimate
    e = estimate("Llama-3.1-8B", "Q4_K_M", context=8192, kv_cache="f16")
    e.weights_gib, e.kv_cache_gib, e.overhead_gib, e.total_gib

* **Weights** are the GGUF file: every tensor of the architecture in the type llama.cpp's quant mix
  gives it (:mod:`dashboard.gguf_mix`), at the exact ggml block size (``data/ggml_types.csv``), plus
  the file's metadata (mostly the tokenizer).
* **KV cache** is ``2 x layers x KV heads x head dim x cells`` at the cache type's real block size
  (q8_0: 34 bytes per 32 values, q4_0: 18 per 32). llama.cpp rounds the context up to a multiple of
  256 cells; sliding-window layers hold ``min(context, window + ubatch)`` cells; MLA models cache only
  the compressed latent (K, no V).
* **Overhead** is the compute buffer (the scratch memory of the largest graph, one ubatch of 512
  tokens) and the output buffer (logits of one token), modelled on llama.cpp's own reported buffer
  sizes (``data/llamacpp_buffers.csv``, CPU backend; see :func:`compute_buffer_bytes`). GPU backends
  reserve buffers of the same graph; their sizes were not measured here.

All sizes are bytes internally and GiB (2^30 bytes) in :class:`MemoryEstimate`; :func:`gib_to_gb` gives
decimal GB for displays that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

import polars as pl

from dashboard import data
from dashboard.architecture import ARCHITECTURE_CACHE_SIZE, ModelSpec, n_weights, tensors
from dashboard.gguf_mix import DEFAULT_TYPE, MixContext, tensor_type
from dashboard.models import catalog

__all__ = [
    "GB",
    "GIB",
    "KV_CACHE_TYPES",
    "MemoryEstimate",
    "ModelSpec",
    "bytes_to_gib",
    "catalog",
    "compute_buffer_bytes",
    "estimate",
    "gb_to_gib",
    "gib_to_gb",
    "kv_cache_bytes",
    "n_weights",
    "output_buffer_bytes",
    "quant_types",
    "resolve_model",
    "tensor_bytes",
    "tensor_types",
    "tensors",
    "weights_bytes",
]

GIB = 2**30
GB = 10**9
KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")
DEFAULT_UBATCH_TOKENS = 512  # llama.cpp's default n_ubatch
CONTEXT_PADDING_TOKENS = 256  # llama_context pads n_ctx to a multiple of 256
# With a quantised KV cache and flash attention, llama.cpp's buffer grows by a dequantisation scratch once the
# cache is large: seen at 8192 cells and above, not at 2048 and below (data/llamacpp_buffers.csv).
DEQUANT_MIN_CELLS = 2048


def gib_to_gb(gib: float) -> float:
    """Convert GiB (2^30 bytes) to decimal GB (10^9 bytes)."""
    return gib * GIB / GB


def bytes_to_gib(n_bytes: float) -> float:
    """Convert bytes to GiB (2^30 bytes)."""
    return n_bytes / GIB


def gb_to_gib(gb: float) -> float:
    """Convert decimal GB (10^9 bytes) to GiB (2^30 bytes)."""
    return gb * GB / GIB


def pad(value: int, multiple: int) -> int:
    """Round ``value`` up to a multiple of ``multiple`` (ggml's GGML_PAD)."""
    return -(-value // multiple) * multiple


@dataclass(frozen=True)
class GgmlType:
    """Storage of one ggml type: weights per block and bytes per block."""

    name: str
    block_size_weights: int
    bytes_per_block: int

    def row_bytes(self, n_weights: int) -> int:
        """Bytes for ``n_weights`` values (a whole number of blocks)."""
        return -(-n_weights // self.block_size_weights) * self.bytes_per_block


@cache
def ggml_types() -> dict[str, GgmlType]:
    """The ggml storage types by name (``Q4_K``, ``F16``...), from ``data/ggml_types.csv``."""
    df = data.load_table("ggml_types")
    return {
        r["ggml_type"]: GgmlType(r["ggml_type"], r["block_size_weights"], r["bytes_per_block"])
        for r in df.iter_rows(named=True)
    }


def _block_sizes() -> dict[str, int]:
    return {k: v.block_size_weights for k, v in ggml_types().items()}


def quant_types() -> list[str]:
    """The quant types (llama-quantize ftypes) the memory model covers, most bits first."""
    df = data.load_table("quant_types")
    return [q for q in df["quant"].to_list() if q in DEFAULT_TYPE]


def _mix_context(spec: ModelSpec, has_imatrix: bool) -> MixContext:
    return MixContext(
        n_layers=spec.n_layers,
        n_gqa=spec.n_gqa,
        n_experts=spec.n_experts,
        tied_embeddings=spec.tied_embeddings,
        # llama.cpp's LLM_TYPE_70B for llama-family models is the 80-layer size class.
        is_70b_class=spec.n_layers == 80 and spec.n_experts == 1,
        has_imatrix=has_imatrix,
    )


def tensor_types(spec: ModelSpec, quant: str, has_imatrix: bool = True) -> pl.DataFrame:
    """Each tensor with the ggml type and bytes llama.cpp stores it in for ``quant``."""
    types, blocks = ggml_types(), _block_sizes()
    ctx = _mix_context(spec, has_imatrix)
    rows = []
    for t in tensors(spec):
        ggml = tensor_type(quant, t, ctx, blocks)
        rows.append((t.name, t.category, t.layer, t.n_elements, ggml, types[ggml].row_bytes(t.n_elements)))
    return pl.DataFrame(rows, schema=["tensor", "category", "layer", "n_weights", "ggml_type", "bytes"], orient="row")


def fit_metadata_bytes_per_vocab_entry(files: pl.DataFrame) -> float:
    """GGUF bytes that are not tensor data, per vocabulary entry: the median over ``files`` (rows of
    ``data/llamacpp_file_sizes.csv``, files llama.cpp wrote).

    The header, tensor index and alignment are small; the tokenizer (token strings, scores, types,
    merges) dominates and scales with the vocabulary.
    """
    per_entry = (files["file_size_bytes"] - files["tensor_bytes"]) / files["vocab_size"]
    return float(per_entry.median())


@cache
def _metadata_bytes_per_vocab_entry() -> float:
    """:func:`fit_metadata_bytes_per_vocab_entry` on every measured file."""
    return fit_metadata_bytes_per_vocab_entry(data.load_table("llamacpp_file_sizes"))


# Keyed by (spec, quant type, imatrix): every quant type of each recently used architecture.
@lru_cache(maxsize=ARCHITECTURE_CACHE_SIZE * 64)
def tensor_bytes(spec: ModelSpec, quant: str, has_imatrix: bool = True) -> int:
    """Bytes of tensor data in the GGUF file of ``spec`` quantised to ``quant`` (cached for recent specs)."""
    types, blocks = ggml_types(), _block_sizes()
    ctx = _mix_context(spec, has_imatrix)
    return sum(types[tensor_type(quant, t, ctx, blocks)].row_bytes(t.n_elements) for t in tensors(spec))


def weights_bytes(spec: ModelSpec, quant: str, has_imatrix: bool = True) -> int:
    """Size in bytes of the GGUF file of ``spec`` quantised to ``quant``: tensor data plus metadata."""
    return tensor_bytes(spec, quant, has_imatrix) + round(_metadata_bytes_per_vocab_entry() * spec.vocab_size)


def kv_cache_bytes(spec: ModelSpec, context: int, kv_cache: str = "f16", n_ubatch: int = DEFAULT_UBATCH_TOKENS) -> int:
    """Bytes of the KV cache at ``context`` tokens with cache type ``kv_cache`` (f16, q8_0, q4_0)."""
    if kv_cache not in KV_CACHE_TYPES:
        raise ValueError(f"kv_cache must be one of {', '.join(KV_CACHE_TYPES)}, got {kv_cache!r}")
    if context < 1:
        raise ValueError(f"context must be at least 1 token, got {context}")
    cache_type = ggml_types()[kv_cache.upper()]
    cells = pad(context, CONTEXT_PADDING_TOKENS)
    if spec.is_mla:
        # K only: the latent (kv_lora_rank) plus the shared rope key, one "head".
        row = (spec.kv_lora_rank or 0) + (spec.rope_head_dim or 0)
        return spec.n_layers * cells * cache_type.row_bytes(row)
    row = spec.n_kv_heads * spec.head_dim
    per_cell_layer = 2 * cache_type.row_bytes(row)
    swa_cells = cells
    if spec.sliding_window:
        swa_cells = min(cells, pad(spec.sliding_window + n_ubatch, CONTEXT_PADDING_TOKENS))
    full_layers = spec.n_layers - spec.n_swa_layers
    return per_cell_layer * (full_layers * cells + spec.n_swa_layers * swa_cells)


def fit_buffer_coefficients(buffers: pl.DataFrame) -> tuple[float, float]:
    """Two per-hidden-unit coefficients of the compute buffer, read off llama.cpp's reported sizes (``buffers``:
    rows of ``data/llamacpp_buffers.csv``; rows whose K and V cache types differ are not used).

    * without flash attention, the activations that live beside the attention scores (``_extra``);
    * with a quantised KV cache, the dequantisation scratch (``_dequant``).

    Both in units of ``4 bytes x ubatch x hidden_size`` (``data/llamacpp_buffers.csv``).
    """
    df = buffers.with_columns(
        (pl.col("compute_buffer_mib") * 2**20 / (4 * pl.col("n_ubatch"))).alias("per_token"),
        (
            (pl.col("context_tokens") + CONTEXT_PADDING_TOKENS - 1) // CONTEXT_PADDING_TOKENS * CONTEXT_PADDING_TOKENS
        ).alias("cells"),
    )
    logits = pl.col("vocab_size") + 2 * pl.col("hidden_size")
    attention = pl.col("cells") * (pl.col("n_heads") + 1)
    no_fa = df.filter(~pl.col("flash_attention") & (attention > logits))
    extra = ((no_fa["per_token"] - no_fa.select(attention).to_series()) / no_fa["hidden_size"]).median()
    quantised = df.filter(
        pl.col("flash_attention")
        & pl.col("kv_cache_type").is_in(["q8_0", "q4_0"])
        & (pl.col("cells") > DEQUANT_MIN_CELLS)
    )
    dequant = ((quantised["per_token"] - quantised.select(logits).to_series()) / quantised["hidden_size"]).median()
    return float(extra), float(dequant)


@cache
def _buffer_coefficients() -> tuple[float, float]:
    """:func:`fit_buffer_coefficients` on every measured buffer."""
    return fit_buffer_coefficients(data.load_table("llamacpp_buffers"))


def compute_buffer_bytes(
    spec: ModelSpec,
    context: int,
    n_ubatch: int = DEFAULT_UBATCH_TOKENS,
    flash_attention: bool = True,
    kv_cache: str = "f16",
    coefficients: tuple[float, float] | None = None,
) -> int:
    """Compute buffer llama.cpp reserves for one ubatch at ``context`` tokens (CPU backend figures).

    With flash attention the largest graph is the output: logits for every token of the ubatch plus two
    hidden-size activations, ``4 x ubatch x (vocab + 2 x hidden)`` bytes; a quantised KV cache adds a
    dequantisation buffer. Without flash attention the attention scores ``4 x ubatch x cells x (heads + 1)``
    (scores and mask, F32) plus activations can exceed it. The two coefficients come from llama.cpp's own
    reported sizes (:func:`fit_buffer_coefficients`; ``coefficients`` overrides them); fitted on the other
    measured shapes, the formula reproduces every row of a held-out shape within 1% (``tests/test_memory.py``).
    """
    spec = spec.resolved()
    extra, dequant = coefficients or _buffer_coefficients()
    cells = pad(context, CONTEXT_PADDING_TOKENS)
    per_token = spec.vocab_size + 2 * spec.hidden_size
    if flash_attention:
        if kv_cache != "f16" and cells > DEQUANT_MIN_CELLS:
            per_token += dequant * spec.hidden_size
    else:
        per_token = max(per_token, cells * (spec.n_heads + 1) + extra * spec.hidden_size)
    return round(4 * n_ubatch * per_token)


def output_buffer_bytes(spec: ModelSpec) -> int:
    """Host buffer for the logits of one sequence's last token: vocab x 4 bytes (F32)."""
    return spec.vocab_size * 4


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory needed to run one model at one quant type, context and KV-cache type (GiB)."""

    model: str
    quant: str
    context: int
    kv_cache: str
    weights_gib: float
    kv_cache_gib: float
    compute_buffer_gib: float
    output_buffer_gib: float
    details: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def overhead_gib(self) -> float:
        """Compute buffer plus output buffer."""
        return self.compute_buffer_gib + self.output_buffer_gib

    @property
    def total_gib(self) -> float:
        """Weights + KV cache + overhead."""
        return self.weights_gib + self.kv_cache_gib + self.overhead_gib

    @property
    def total_gb(self) -> float:
        """Total in decimal GB, as GPU makers label VRAM."""
        return gib_to_gb(self.total_gib)

    @property
    def bits_per_weight(self) -> float:
        """Bits per weight of the tensor data (what llama.cpp's tables call bpw; metadata excluded)."""
        return self.details.get("bits_per_weight", float("nan"))


def resolve_model(model: ModelSpec | str) -> ModelSpec:
    """A spec for ``model``: itself, or the catalog entry of that name."""
    if isinstance(model, ModelSpec):
        return model
    specs = catalog()
    if model not in specs:
        raise KeyError(f"unknown model {model!r}; catalog models: {', '.join(specs)}")
    return specs[model]


def estimate(
    model: ModelSpec | str,
    quant: str,
    context: int = 8192,
    kv_cache: str = "f16",
    *,
    flash_attention: bool = True,
    n_ubatch: int = DEFAULT_UBATCH_TOKENS,
    has_imatrix: bool = True,
) -> MemoryEstimate:
    """Memory to run ``model`` (a :class:`ModelSpec` or catalog name) quantised to ``quant``.

    Parameters
    ----------
    model
        A spec, or a model name from the catalog.
    quant
        A llama-quantize type such as ``"Q4_K_M"``.
    context
        Context length in tokens (llama.cpp's ``-c``).
    kv_cache
        Cache type for K and V: ``"f16"``, ``"q8_0"`` or ``"q4_0"`` (quantised V needs flash attention).
    """
    spec = resolve_model(model).resolved()
    if quant not in DEFAULT_TYPE and quant != spec.gguf_quant:
        raise KeyError(f"unknown quant type {quant!r}")
    from_file = spec.gguf_quant == quant and spec.gguf_file_bytes is not None
    if from_file:  # the file's own header: exact sizes, not the quant-mix computation
        weights = spec.gguf_file_bytes or 0
        data_bytes = spec.gguf_tensor_bytes or weights
    else:
        weights = weights_bytes(spec, quant, has_imatrix)
        data_bytes = tensor_bytes(spec, quant, has_imatrix)
    weights += spec.mmproj_bytes
    kv = kv_cache_bytes(spec, context, kv_cache, n_ubatch)
    compute = compute_buffer_bytes(spec, context, n_ubatch, flash_attention, kv_cache)
    output = output_buffer_bytes(spec)
    weight_count = n_weights(spec)
    return MemoryEstimate(
        model=spec.name,
        quant=quant,
        context=context,
        kv_cache=kv_cache,
        weights_gib=weights / GIB,
        kv_cache_gib=kv / GIB,
        compute_buffer_gib=compute / GIB,
        output_buffer_gib=output / GIB,
        details={
            "bits_per_weight": 8 * data_bytes / weight_count,
            "n_weights": float(weight_count),
            "weights_from_file": float(from_file),
            "mmproj_gib": spec.mmproj_bytes / GIB,
        },
    )
