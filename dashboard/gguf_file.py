"""Read a GGUF file's own header: architecture, name, every tensor's ggml type, the exact weight bytes.

Pure domain logic (no Panel). Only the start of the file is needed — the header, the metadata and the
tensor index, never the tensor data — so a 40 GB model costs a few MB to read::

    from dashboard.gguf_file import read_gguf_header
    info = read_gguf_header(prefix)          # bytes from the start of a .gguf file
    info.architecture, info.name, info.tensor_types, info.weights_bytes, info.spec

The layout follows the GGUF specification (ggml-org/ggml ``docs/gguf.md``): magic ``GGUF``, version 2 or 3,
tensor and metadata counts, the key/value pairs, one entry per tensor (name, shape, ggml type id, offset),
then the tensor data at the next multiple of ``general.alignment`` (32 by default). Type ids, block sizes
and bytes per block come from ``data/ggml_types.csv`` (ggml's own type table); the tests check them against
llama.cpp's ``gguf`` Python package, whose writer also makes the test files.

Too few bytes raises :class:`TruncatedHeaderError` (an :class:`~dashboard.ingest.InputError`) whose
``bytes_needed`` says how many bytes to read next; anything else malformed raises
:class:`~dashboard.ingest.InputError` naming the byte offset and what was expected.
"""

from __future__ import annotations

import itertools
import math
import re
import struct
from dataclasses import dataclass, field, replace
from functools import cache

from dashboard import data
from dashboard.architecture import UNSTATED_CONTEXT_TOKENS
from dashboard.ingest import InputError
from dashboard.memory import ModelSpec, ggml_types

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT_BYTES = 32
# How much of a file to read first: every header measured here fits (a 262k-entry tokenizer is ~7 MB).
FIRST_READ_BYTES = 16 * 2**20
# Bounds against corrupt or hostile headers (far above any real model: DeepSeek-V3 has ~1,150 tensors).
MAX_TENSORS = 1_000_000
MAX_METADATA_KEYS = 100_000
MAX_HEADER_BYTES = 512 * 2**20
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_STRING_BYTES = 64 * 2**20
MAX_NAME_CHARS = 120

# GGUF metadata value types (docs/gguf.md, ``gguf_metadata_value_type``): id -> (name, struct code, size)
_SCALARS: dict[int, tuple[str, str, int]] = {
    0: ("uint8", "B", 1),
    1: ("int8", "b", 1),
    2: ("uint16", "H", 2),
    3: ("int16", "h", 2),
    4: ("uint32", "I", 4),
    5: ("int32", "i", 4),
    6: ("float32", "f", 4),
    7: ("bool", "?", 1),
    10: ("uint64", "Q", 8),
    11: ("int64", "q", 8),
    12: ("float64", "d", 8),
}
_STRING, _ARRAY = 8, 9

# llama.cpp's file types (``enum llama_ftype`` in include/llama.h; ``general.file_type``) -> llama-quantize name.
# Ids 4-6 and 33-35 are retired types llama.cpp no longer writes.
FILE_TYPES: dict[int, str] = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    21: "Q2_K_S",
    22: "IQ3_XS",
    23: "IQ3_XXS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    27: "IQ3_M",
    28: "IQ2_S",
    29: "IQ2_M",
    30: "IQ4_XS",
    31: "IQ1_M",
    32: "BF16",
    36: "TQ1_0",
    37: "TQ2_0",
    38: "MXFP4_MOE",
    39: "NVFP4",
    40: "Q1_0",
}

# Sliding-window layouts llama.cpp applies per architecture (``hparams.set_swa_pattern(n)`` in
# src/llama-model.cpp: of every n layers, the first n-1 use the window) when the file has no explicit
# ``{arch}.attention.sliding_window_pattern`` array.
SWA_PATTERN: dict[str, int] = {"gemma2": 2, "gemma3": 6, "gpt-oss": 2, "cohere2": 4}


class TruncatedHeaderError(InputError):
    """The bytes end inside the header; ``bytes_needed`` is how many bytes from the start to read next."""

    def __init__(self, message: str, bytes_needed: int) -> None:
        super().__init__(message)
        self.bytes_needed = bytes_needed


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the file: name, shape (ggml order: ne[0] first), ggml type, offset and data size."""

    name: str
    shape: tuple[int, ...]
    ggml_type: str
    offset_bytes: int
    size_bytes: int

    @property
    def n_elements(self) -> int:
        """Number of values in the tensor."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class GGUFInfo:
    """What the header of one GGUF file says."""

    architecture: str
    name: str
    version: int
    metadata: dict[str, object] = field(repr=False)
    tensors: tuple[TensorInfo, ...] = field(repr=False)
    alignment_bytes: int
    header_bytes: int  # where the tensor index ends: the bytes a reader needs
    data_offset_bytes: int
    file_type: str | None
    spec: ModelSpec

    @property
    def tensor_types(self) -> dict[str, str]:
        """``{tensor name: ggml type name}`` in file order."""
        return {t.name: t.ggml_type for t in self.tensors}

    @property
    def weights_bytes(self) -> int:
        """Exact sum of the tensor data sizes (no padding, no metadata)."""
        return sum(t.size_bytes for t in self.tensors)

    @property
    def file_bytes(self) -> int:
        """Size of the whole file: the aligned data section, each tensor padded to the alignment (as both
        llama.cpp's and the ``gguf`` package's writers do, the last one included)."""
        if not self.tensors:
            return self.data_offset_bytes
        end = max(t.offset_bytes + t.size_bytes for t in self.tensors)
        return self.data_offset_bytes + -(-end // self.alignment_bytes) * self.alignment_bytes

    @property
    def is_split(self) -> bool:
        """True for one part of a split model (``-00001-of-0000N.gguf``): the other parts hold more tensors."""
        count = self.metadata.get("split.count")
        return isinstance(count, int) and count > 1


@cache
def _types_by_id() -> dict[int, tuple[str, int, int]]:
    df_types = ggml_types()
    ids = {r["ggml_type"]: r["ggml_type_id"] for r in data.load_table("ggml_types").iter_rows(named=True)}
    return {ids[name]: (name, t.block_size_weights, t.bytes_per_block) for name, t in df_types.items()}


class _Reader:
    """Little- or big-endian reads from the prefix with bounds checks that say how far the header goes."""

    def __init__(self, buf: bytes, endian: str) -> None:
        self.buf, self.pos, self.endian = buf, 0, endian

    def need(self, n: int, what: str) -> None:
        end = self.pos + n
        if end > MAX_HEADER_BYTES:
            raise InputError(f"GGUF header: {what} at byte {self.pos:,} would end past {MAX_HEADER_BYTES:,} bytes")
        if end > len(self.buf):
            raise TruncatedHeaderError(
                f"GGUF header: the first {len(self.buf):,} bytes end inside {what} (byte {self.pos:,}); "
                f"read at least {end:,} bytes from the start of the file",
                end,
            )

    def scalar(self, code: str, size: int, what: str) -> object:
        self.need(size, what)
        (value,) = struct.unpack_from(self.endian + code, self.buf, self.pos)
        self.pos += size
        return value

    def u32(self, what: str) -> int:
        return int(self.scalar("I", 4, what))  # type: ignore[arg-type]

    def u64(self, what: str) -> int:
        return int(self.scalar("Q", 8, what))  # type: ignore[arg-type]

    def string(self, what: str) -> str:
        start = self.pos
        length = self.u64(f"the length of {what}")
        if length > MAX_STRING_BYTES:
            raise InputError(f"GGUF header: {what} at byte {start:,} claims {length:,} bytes; not a GGUF string")
        self.need(length, what)
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"GGUF header: {what} at byte {start:,} is not UTF-8") from None

    def value(self, vtype: int, key: str) -> object:
        if vtype in _SCALARS:
            _name, code, size = _SCALARS[vtype]
            return self.scalar(code, size, f"the value of {key!r}")
        if vtype == _STRING:
            return self.string(f"the value of {key!r}")
        if vtype == _ARRAY:
            item_type = self.u32(f"the item type of {key!r}")
            count = self.u64(f"the length of {key!r}")
            if item_type in _SCALARS:
                _name, code, size = _SCALARS[item_type]
                if count * size > MAX_HEADER_BYTES:
                    raise InputError(f"GGUF header: array {key!r} claims {count:,} items; not a GGUF header")
                self.need(count * size, f"the array {key!r}")
                values = struct.unpack_from(f"{self.endian}{count}{code}", self.buf, self.pos)
                self.pos += count * size
                return list(values)
            if item_type == _STRING:
                if count > MAX_HEADER_BYTES // 8:
                    raise InputError(f"GGUF header: array {key!r} claims {count:,} strings; not a GGUF header")
                return [self.string(f"item {i} of {key!r}") for i in range(count)]
            raise InputError(f"GGUF header: array {key!r} has item type {item_type}, which GGUF does not define")
        raise InputError(f"GGUF header: key {key!r} has value type {vtype}, which GGUF does not define")


def _endianness(prefix: bytes) -> str:
    if len(prefix) < 8:
        raise TruncatedHeaderError(
            f"GGUF header: got {len(prefix)} bytes; the header starts with 8 bytes (magic and version)", 8
        )
    if prefix[:4] != MAGIC:
        raise InputError(f"not a GGUF file: it starts with {prefix[:4]!r}, not {MAGIC!r}")
    little = struct.unpack_from("<I", prefix, 4)[0]
    if little in SUPPORTED_VERSIONS:
        return "<"
    big = struct.unpack_from(">I", prefix, 4)[0]
    if big in SUPPORTED_VERSIONS:
        return ">"
    if little == 1:
        raise InputError("GGUF version 1 (2023) is not supported; convert the model again with a current llama.cpp")
    raise InputError(f"GGUF header: version {little} is not one this reader knows ({SUPPORTED_VERSIONS})")


def _parse(prefix: bytes) -> tuple[int, dict[str, object], list[TensorInfo], int, int, int]:
    endian = _endianness(prefix)
    r = _Reader(prefix, endian)
    r.pos = 4
    version = r.u32("the version")
    n_tensors = r.u64("the tensor count")
    n_keys = r.u64("the metadata key count")
    if n_tensors > MAX_TENSORS:
        raise InputError(f"GGUF header: {n_tensors:,} tensors is more than {MAX_TENSORS:,}; the header is corrupt")
    if n_keys > MAX_METADATA_KEYS:
        raise InputError(f"GGUF header: {n_keys:,} metadata keys is more than {MAX_METADATA_KEYS:,}; corrupt")
    metadata: dict[str, object] = {}
    for i in range(n_keys):
        key = r.string(f"metadata key {i}")
        vtype = r.u32(f"the value type of {key!r}")
        metadata[key] = r.value(vtype, key)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT_BYTES)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment & (alignment - 1):
        raise InputError(f"GGUF header: general.alignment must be a power of two, got {alignment!r}")
    types = _types_by_id()
    raw: list[tuple[str, tuple[int, ...], int, int]] = []
    for i in range(n_tensors):
        name = r.string(f"the name of tensor {i}")
        n_dims = r.u32(f"the dimension count of {name!r}")
        if not 1 <= n_dims <= MAX_DIMS:
            raise InputError(f"GGUF header: tensor {name!r} has {n_dims} dimensions; ggml allows 1 to {MAX_DIMS}")
        shape = tuple(r.u64(f"dimension {d} of {name!r}") for d in range(n_dims))
        type_id = r.u32(f"the type of {name!r}")
        offset = r.u64(f"the data offset of {name!r}")
        raw.append((name, shape, type_id, offset))
    header_end = r.pos
    data_offset = -(-header_end // alignment) * alignment
    tensors: list[TensorInfo] = []
    seen: set[str] = set()
    for name, shape, type_id, offset in raw:
        if type_id not in types:
            raise InputError(f"GGUF header: tensor {name!r} has ggml type id {type_id}, which is not a known type")
        type_name, block, block_bytes = types[type_id]
        if name in seen:
            raise InputError(f"GGUF header: tensor {name!r} appears twice")
        seen.add(name)
        if any(d == 0 for d in shape) or math.prod(shape) > 2**48:
            raise InputError(f"GGUF header: tensor {name!r} has an impossible shape {list(shape)}")
        if shape[0] % block:
            raise InputError(
                f"GGUF header: tensor {name!r} rows of {shape[0]} values are not whole {type_name} blocks of {block}"
            )
        if offset % alignment:
            raise InputError(f"GGUF header: tensor {name!r} starts at offset {offset}, not a multiple of {alignment}")
        size = math.prod(shape) // block * block_bytes
        tensors.append(TensorInfo(name, shape, type_name, offset, size))
    ordered = sorted(tensors, key=lambda t: t.offset_bytes)
    for before, after in itertools.pairwise(ordered):
        if after.offset_bytes < before.offset_bytes + before.size_bytes:
            raise InputError(f"GGUF header: tensors {before.name!r} and {after.name!r} overlap in the data section")
    return version, metadata, tensors, alignment, header_end, data_offset


def _meta_int(meta: dict[str, object], key: str) -> int | None:
    value = meta.get(key)
    if isinstance(value, list):  # per-layer arrays (e.g. head_count_kv of hybrid models): the largest layer
        numbers = [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
        value = max(numbers) if numbers else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"GGUF metadata: {key} must be a whole number, got {str(value)[:40]!r}")
    return value


def _spec(arch: str, name: str, meta: dict[str, object], tensors: list[TensorInfo]) -> ModelSpec:
    """The architecture from the metadata, with the layout read off the tensors the file really holds."""
    by_name = {t.name: t for t in tensors}
    a = f"{arch}."

    def need(key: str) -> int:
        value = _meta_int(meta, a + key)
        if value is None or value <= 0:
            raise InputError(f"GGUF metadata: {a + key} is missing; the file does not describe its architecture")
        return value

    def has(suffix: str) -> bool:
        return any(t.startswith("blk.") and t.endswith(suffix) for t in by_name)

    def rows(tensor: str) -> int | None:  # ne[1] of a 2-D tensor: its output width
        t = by_name.get(tensor)
        return t.shape[1] if t and len(t.shape) > 1 else None

    n_layers = need("block_count")
    hidden = need("embedding_length")
    n_heads = need("attention.head_count")
    n_kv = _meta_int(meta, a + "attention.head_count_kv") or n_heads
    if n_heads % n_kv:
        raise InputError(f"GGUF metadata: {n_heads} attention heads are not a multiple of {n_kv} KV heads")
    tokens = meta.get("tokenizer.ggml.tokens")
    vocab = (
        _meta_int(meta, a + "vocab_size")
        or rows("token_embd.weight")
        or (len(tokens) if isinstance(tokens, list) else None)
    )
    if not vocab:
        raise InputError("GGUF metadata: no vocabulary size (no vocab_size key, token_embd tensor or token list)")
    kv_lora = _meta_int(meta, a + "attention.kv_lora_rank")
    key_length = _meta_int(meta, a + "attention.key_length")
    rope_dims = _meta_int(meta, a + "rope.dimension_count")
    head_dim = key_length or hidden // n_heads
    n_experts = _meta_int(meta, a + "expert_count") or 1
    window = _meta_int(meta, a + "attention.sliding_window")
    pattern = meta.get(a + "attention.sliding_window_pattern")
    n_swa = 0
    if window:
        if isinstance(pattern, list):
            n_swa = sum(1 for v in pattern[:n_layers] if v)
        elif arch in SWA_PATTERN:
            n = SWA_PATTERN[arch]
            n_swa = sum(1 for i in range(n_layers) if i % n < n - 1)
    fields: dict[str, object] = {}
    if kv_lora:
        # llama.cpp writes MLA models as MQA over the latent: key_length = kv_lora_rank + rope dims
        # (key_length_mla / value_length_mla hold the per-head sizes).
        k_mla = _meta_int(meta, a + "attention.key_length_mla")
        v_mla = _meta_int(meta, a + "attention.value_length_mla") or _meta_int(meta, a + "attention.value_length")
        nope = (k_mla or key_length or 0) - (rope_dims or 0)
        head_dim = nope if nope > 0 else head_dim
        n_kv = n_heads  # the spec describes MLA by its ranks; the cache size comes from them
        fields.update(
            kv_lora_rank=kv_lora,
            q_lora_rank=_meta_int(meta, a + "attention.q_lora_rank"),
            rope_head_dim=rope_dims,
            v_head_dim=v_mla,
        )
    expert_ffn = _meta_int(meta, a + "expert_feed_forward_length")
    up_exps = next((t for n, t in by_name.items() if n.endswith("ffn_up_exps.weight")), None)
    if n_experts > 1 and not expert_ffn and up_exps and len(up_exps.shape) > 1:
        expert_ffn = up_exps.shape[1]
    shared_up = next((t for n, t in by_name.items() if n.endswith("ffn_up_shexp.weight")), None)
    dense_ffn = _meta_int(meta, a + "feed_forward_length") or rows("blk.0.ffn_up.weight") or 0
    moe_layers = {int(n.split(".")[1]) for n in by_name if n.startswith("blk.") and n.endswith("ffn_up_exps.weight")}
    dense_layers = tuple(i for i in range(n_layers) if i not in moe_layers) if moe_layers else ()
    leading = 0
    while leading < len(dense_layers) and dense_layers[leading] == leading:
        leading += 1
    fields.update(
        n_experts=n_experts,
        n_experts_used=min(_meta_int(meta, a + "expert_used_count") or 1, n_experts),
        n_shared_experts=(_meta_int(meta, a + "expert_shared_count") or (1 if shared_up else 0)),
        shared_expert_ffn_hidden_size=(shared_up.shape[1] if shared_up and len(shared_up.shape) > 1 else None),
        expert_ffn_hidden_size=expert_ffn,
        n_dense_layers=leading,
        mlp_only_layers=dense_layers[leading:],
    )
    # Phi-3 stores gate and up as one ffn_up of twice the width: the same weights as a gated FFN.
    up_rows = rows("blk.0.ffn_up.weight")
    fused_gate_up = bool(up_rows and dense_ffn and up_rows == 2 * dense_ffn)
    has_up = has("ffn_up.weight") or bool(moe_layers)
    gated = has("ffn_gate.weight") or has("ffn_gate_exps.weight") or fused_gate_up or not has_up
    spec = ModelSpec(
        name=name,
        params=float(sum(t.n_elements for t in tensors)) or 1.0,
        n_layers=n_layers,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=head_dim,
        hidden_size=hidden,
        vocab_size=vocab,
        max_context=_meta_int(meta, a + "context_length") or UNSTATED_CONTEXT_TOKENS,
        ffn_hidden_size=dense_ffn,
        tied_embeddings="output.weight" not in by_name,
        attention_bias=has("attn_q.bias") or has("attn_qkv.bias"),
        attention_output_bias=has("attn_output.bias"),
        sliding_window=window if n_swa else None,
        n_swa_layers=n_swa,
        gated_ffn=gated,
        fused_qkv=has("attn_qkv.weight"),
        qk_norm=has("attn_q_norm.weight"),
        post_norms=has("post_attention_norm.weight") and has("post_ffw_norm.weight"),
        norm_bias=has("attn_norm.bias"),
        attention_sinks=has("attn_sinks.weight"),
        shared_expert_gate=has("ffn_gate_inp_shexp.weight"),
        expert_bias=has("ffn_up_exps.bias"),
        router_bias=has("ffn_gate_inp.bias") or has("exp_probs_b.bias"),
        family=arch,
        notes="read from the GGUF header",
        source="user .gguf file",
        **fields,
    )
    return spec


def _clean(value: object, fallback: str) -> str:
    text = value if isinstance(value, str) else fallback
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).strip() or fallback
    return text[:MAX_NAME_CHARS]


def read_gguf_header(prefix: bytes | bytearray | memoryview) -> GGUFInfo:
    """Read the header of a GGUF file from the first bytes of the file.

    Parameters
    ----------
    prefix
        Bytes from the start of a ``.gguf`` file, at least up to the start of the tensor data
        (:data:`FIRST_READ_BYTES` is enough for every model measured here).

    Returns
    -------
    GGUFInfo
        ``architecture``, ``name``, ``tensor_types`` (``{tensor name: ggml type name}``), ``weights_bytes``
        (the exact sum of the tensor data sizes), ``file_bytes`` and ``spec`` (a
        :class:`~dashboard.memory.ModelSpec` whose :func:`~dashboard.memory.estimate` uses the file's own
        bytes for its quant type).

    Raises
    ------
    TruncatedHeaderError
        When the bytes end inside the header; ``bytes_needed`` says how many to read.
    InputError
        For anything else that is not a well-formed GGUF header.
    """
    if not isinstance(prefix, bytes | bytearray | memoryview):
        raise InputError(f"expected the bytes of a .gguf file, got {type(prefix).__name__}")
    buf = bytes(prefix)
    try:
        version, meta, tensors, alignment, header_end, data_offset = _parse(buf)
        arch = meta.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise InputError("GGUF metadata: general.architecture is missing")
        arch = _clean(arch, "unknown")
        name = _clean(meta.get("general.name"), arch)
        ftype_id = meta.get("general.file_type")
        file_type = FILE_TYPES.get(ftype_id) if isinstance(ftype_id, int) else None
        info = GGUFInfo(
            architecture=arch,
            name=name,
            version=version,
            metadata=meta,
            tensors=tuple(tensors),
            alignment_bytes=alignment,
            header_bytes=header_end,
            data_offset_bytes=data_offset,
            file_type=file_type,
            spec=_spec(arch, name, meta, tensors),
        )
        exact = replace(
            info.spec,
            gguf_quant=file_type or "file",
            gguf_file_bytes=info.file_bytes,
            gguf_tensor_bytes=info.weights_bytes,
        )
        return replace(info, spec=exact)
    except InputError:
        raise
    except (ValueError, struct.error, OverflowError, MemoryError) as exc:
        raise InputError(f"GGUF header: could not be read ({type(exc).__name__}: {str(exc)[:200]})") from None


class HeaderBuffer:
    """Collects the start of a file chunk by chunk until its GGUF header can be read.

    The page reads a file in slices (``File.slice`` in the browser): :meth:`feed` takes the next slice and
    returns either the :class:`GGUFInfo` or the ``(offset, length)`` of the slice to read next, so a 40 GB
    model costs only its header (a few MB) to read. More than :data:`MAX_HEADER_BYTES` is refused.
    """

    def __init__(self, file_size_bytes: int, chunk_bytes: int = 4 * 2**20) -> None:
        if file_size_bytes < 0:
            raise InputError("the file size must not be negative")
        self.file_size_bytes, self.chunk_bytes = file_size_bytes, chunk_bytes
        self.buffer = bytearray()

    def first_read(self) -> tuple[int, int]:
        """The first slice to read: ``(0, length)``."""
        return 0, min(self.chunk_bytes, self.file_size_bytes)

    def feed(self, offset: int, chunk: bytes) -> GGUFInfo | tuple[int, int]:
        """Add the slice that starts at ``offset``; the header, or the next slice to read."""
        if offset != len(self.buffer):
            raise InputError(f"expected the bytes from offset {len(self.buffer):,}, got offset {offset:,}")
        self.buffer += chunk
        try:
            return read_gguf_header(bytes(self.buffer))
        except TruncatedHeaderError as exc:
            if len(self.buffer) >= self.file_size_bytes or not chunk:
                raise InputError(
                    f"the file ends after {self.file_size_bytes:,} bytes, inside its GGUF header: it is cut short"
                ) from None
            if exc.bytes_needed > MAX_HEADER_BYTES:
                raise InputError(
                    f"the GGUF header would be {exc.bytes_needed:,} bytes; more than {MAX_HEADER_BYTES:,} is refused"
                ) from None
            start = len(self.buffer)
            length = max(exc.bytes_needed - start, self.chunk_bytes, start)  # at least double: few round trips
            return start, min(length, self.file_size_bytes - start)


__all__ = ["FIRST_READ_BYTES", "GGUFInfo", "HeaderBuffer", "TensorInfo", "TruncatedHeaderError", "read_gguf_header"]
