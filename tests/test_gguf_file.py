"""read_gguf_header against real GGUF files written by llama.cpp's ``gguf`` package: every field, exact bytes,
truncated and corrupted headers."""

from __future__ import annotations

import random
import struct
from dataclasses import replace
from pathlib import Path

import gguf
import pytest

from dashboard import data
from dashboard.gguf_file import FILE_TYPES, HeaderBuffer, TruncatedHeaderError, read_gguf_header
from dashboard.ingest import InputError
from dashboard.memory import GIB, ModelSpec, estimate, kv_cache_bytes, tensors
from tests.gguf_writer import write_gguf

BASE = dict(
    params=1.0, n_layers=4, n_heads=4, n_kv_heads=2, head_dim=64, hidden_size=256, vocab_size=1000, max_context=4096
)
DENSE = ModelSpec(name="Tiny Llama", ffn_hidden_size=512, **BASE)
TIED = replace(DENSE, name="Tiny tied", tied_embeddings=True, attention_bias=True)
MOE = ModelSpec(
    name="Tiny Qwen3 MoE",
    ffn_hidden_size=768,
    n_experts=8,
    n_experts_used=2,
    expert_ffn_hidden_size=256,
    qk_norm=True,
    **BASE,
)
GEMMA3 = replace(
    DENSE,
    name="Tiny Gemma 3",
    n_layers=12,
    tied_embeddings=True,
    qk_norm=True,
    post_norms=True,
    sliding_window=512,
    n_swa_layers=10,  # llama.cpp's gemma3 pattern: of every 6 layers the first 5 slide
)
PHI3 = replace(DENSE, name="Tiny Phi 3", n_kv_heads=4, fused_qkv=True)
DEEPSEEK = ModelSpec(
    name="Tiny DeepSeek MLA",
    params=1.0,
    n_layers=4,
    n_heads=4,
    n_kv_heads=4,
    head_dim=128,  # the no-rope part of a query/key head
    hidden_size=256,
    vocab_size=1000,
    max_context=4096,
    ffn_hidden_size=512,
    n_experts=8,
    n_experts_used=2,
    n_shared_experts=1,
    expert_ffn_hidden_size=256,
    n_dense_layers=1,
    q_lora_rank=256,
    kv_lora_rank=256,
    rope_head_dim=64,
    v_head_dim=128,
)

CASES = [
    ("llama", DENSE, "Q4_K_M"),
    ("llama", TIED, "Q8_0"),
    ("llama", DENSE, "IQ4_XS"),
    ("qwen3moe", MOE, "Q5_K_M"),
    ("qwen3moe", MOE, "Q2_K"),
    ("gemma3", GEMMA3, "Q4_0"),
    ("phi3", PHI3, "Q4_K_M"),
    ("deepseek2", DEEPSEEK, "Q4_K_M"),
    ("llama", DENSE, "F16"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], tuple[Path, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("gguf")
    out = {}
    for arch, spec, quant in CASES:
        path = folder / f"{spec.name.replace(' ', '_')}-{quant}.gguf"
        out[(arch, spec.name, quant)] = (path, write_gguf(path, spec, quant, arch=arch))
    return out


@pytest.mark.parametrize(("arch", "spec", "quant"), CASES, ids=[f"{a}-{s.name}-{q}" for a, s, q in CASES])
def test_every_field_of_a_real_file(files: dict, arch: str, spec: ModelSpec, quant: str) -> None:
    path, written = files[(arch, spec.name, quant)]
    raw = path.read_bytes()
    info = read_gguf_header(raw)
    reference = gguf.GGUFReader(path)
    assert info.architecture == arch
    assert info.name == spec.name
    assert info.file_type == quant
    assert info.tensor_types == written
    assert info.tensor_types == {t.name: t.tensor_type.name for t in reference.tensors}
    # the exact data bytes, as llama.cpp's reader counts them, and the exact file size
    assert info.weights_bytes == sum(int(t.n_bytes) for t in reference.tensors)
    assert info.file_bytes == len(raw)
    assert info.data_offset_bytes == reference.data_offset
    # the architecture: the same tensors, so the same parameter count, layers, experts and KV geometry
    assert [(t.name, t.n_elements) for t in tensors(info.spec)] == [(t.name, t.n_elements) for t in tensors(spec)]
    for field in ("n_layers", "n_heads", "n_kv_heads", "head_dim", "hidden_size", "vocab_size", "max_context"):
        assert getattr(info.spec, field) == getattr(spec, field), field
    assert info.spec.params == sum(t.n_elements for t in tensors(spec))
    assert info.spec.tied_embeddings == spec.tied_embeddings
    assert (info.spec.n_experts, info.spec.n_experts_used) == (spec.n_experts, spec.n_experts_used)
    assert info.spec.is_moe == spec.is_moe
    assert info.spec.n_swa_layers == spec.n_swa_layers
    assert kv_cache_bytes(info.spec, 8192) == kv_cache_bytes(spec, 8192)


@pytest.mark.parametrize(("arch", "spec", "quant"), CASES[:4], ids=[f"{a}-{q}" for a, _s, q in CASES[:4]])
def test_the_estimate_uses_the_files_exact_bytes(files: dict, arch: str, spec: ModelSpec, quant: str) -> None:
    path, _ = files[(arch, spec.name, quant)]
    raw = path.read_bytes()
    info = read_gguf_header(raw)
    e = estimate(info.spec, quant, 8192)
    assert e.weights_gib * GIB == len(raw)
    assert e.details["weights_from_file"] == 1.0
    # other quant types of the same model are computed from its architecture
    other = estimate(info.spec, "Q8_0" if quant != "Q8_0" else "Q4_K_M", 8192)
    assert other.details["weights_from_file"] == 0.0
    # a vision projector adds its size to every type
    with_mmproj = estimate(replace(info.spec, mmproj_bytes=123_456_789), quant, 8192)
    assert with_mmproj.weights_gib * GIB == len(raw) + 123_456_789


def test_big_endian_files_are_read(tmp_path: Path) -> None:
    path = tmp_path / "be.gguf"
    written = write_gguf(path, DENSE, "Q8_0", endianess=gguf.GGUFEndian.BIG)
    info = read_gguf_header(path.read_bytes())
    assert info.tensor_types == written and info.file_bytes == path.stat().st_size


def test_only_the_header_is_needed(files: dict) -> None:
    path, _ = files[("qwen3moe", MOE.name, "Q5_K_M")]
    raw = path.read_bytes()
    info = read_gguf_header(raw)
    header_only = raw[: info.header_bytes]
    assert read_gguf_header(header_only).weights_bytes == info.weights_bytes
    assert info.data_offset_bytes < len(raw) / 2  # the tensor data is never read


def test_too_few_bytes_says_how_many_to_read_and_the_loop_converges(files: dict) -> None:
    path, _ = files[("gemma3", GEMMA3.name, "Q4_0")]
    raw = path.read_bytes()
    full = read_gguf_header(raw)
    for cut in (0, 3, 8, 20, 100, 5_000, full.header_bytes - 1):
        with pytest.raises(TruncatedHeaderError) as exc:
            read_gguf_header(raw[:cut])
        assert exc.value.bytes_needed > cut
        assert f"{exc.value.bytes_needed:,}" in str(exc.value)
        assert isinstance(exc.value, InputError)
    # reading what each error asks for reaches the full header in a few steps
    size, steps = 16, 0
    while True:
        try:
            info = read_gguf_header(raw[:size])
            break
        except TruncatedHeaderError as exc:
            size = max(exc.bytes_needed, 2 * size)
            steps += 1
    assert info.tensor_types == full.tensor_types and steps < 40


def _header_offsets(raw: bytes) -> tuple[int, int]:
    """Offsets of the tensor-count field and of the first tensor's type id (little endian, for corruption)."""
    info = read_gguf_header(raw)
    first = info.tensors[0]
    name = first.name.encode()
    at = raw.index(struct.pack("<Q", len(name)) + name, 24 + 1)
    type_at = at + 8 + len(name) + 4 + 8 * len(first.shape)
    return 8, type_at


def test_corrupted_headers_are_input_errors(files: dict) -> None:
    path, _ = files[("llama", DENSE.name, "Q4_K_M")]
    raw = path.read_bytes()
    count_at, type_at = _header_offsets(raw)
    cases = {
        "magic": (b"GGML" + raw[4:], "not a GGUF file"),
        "version 1": (raw[:4] + struct.pack("<I", 1) + raw[8:], "version 1"),
        "version 99": (raw[:4] + struct.pack("<I", 99) + raw[8:], "version 99"),
        "tensor count": (raw[:count_at] + struct.pack("<Q", 2**40) + raw[count_at + 8 :], "tensors"),
        "type id": (raw[:type_at] + struct.pack("<I", 250) + raw[type_at + 4 :], "type id 250"),
        "text": (b"hello world, this is not a model file at all", "not a GGUF file"),
    }
    for label, (bad, message) in cases.items():
        with pytest.raises(InputError, match=message):
            read_gguf_header(bad)
        assert label


def test_overlapping_tensors_and_bad_alignment_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "odd.gguf"
    write_gguf(path, DENSE, "Q8_0", extra={"general.alignment": 48})
    with pytest.raises(InputError, match="power of two"):
        read_gguf_header(path.read_bytes())
    path2 = tmp_path / "ok.gguf"
    write_gguf(path2, DENSE, "Q8_0")
    raw = bytearray(path2.read_bytes())
    info = read_gguf_header(bytes(raw))
    second = info.tensors[1]
    name = second.name.encode()
    at = bytes(raw).index(struct.pack("<Q", len(name)) + name)
    offset_at = at + 8 + len(name) + 4 + 8 * len(second.shape) + 4
    raw[offset_at : offset_at + 8] = struct.pack("<Q", 0)  # the second tensor now starts where the first does
    with pytest.raises(InputError, match="overlap"):
        read_gguf_header(bytes(raw))


def test_random_corruption_raises_only_input_errors(files: dict) -> None:
    path, _ = files[("qwen3moe", MOE.name, "Q2_K")]
    raw = path.read_bytes()
    end = read_gguf_header(raw).data_offset_bytes
    rng = random.Random(11)
    for _ in range(300):
        bad = bytearray(raw[:end])
        for _ in range(rng.randint(1, 4)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        try:
            read_gguf_header(bytes(bad))
        except InputError:
            pass


def test_not_bytes_is_an_input_error() -> None:
    with pytest.raises(InputError, match="bytes"):
        read_gguf_header("GGUF")  # type: ignore[arg-type]


def test_ggml_type_table_matches_llama_cpps_gguf_package() -> None:
    """data/ggml_types.csv (ids, block sizes, bytes) is the table the gguf package ships."""
    table = data.load_table("ggml_types")
    known = {t.name for t in gguf.GGMLQuantizationType}
    # Q2_0 is newer than the gguf package release on PyPI (0.19.0); every other type is checked
    assert set(table["ggml_type"]) - known == {"Q2_0"}
    for row in table.filter(table["ggml_type"].is_in(known)).iter_rows(named=True):
        qtype = gguf.GGMLQuantizationType[row["ggml_type"]]
        assert qtype.value == row["ggml_type_id"], row["ggml_type"]
        if row["ggml_type"] == "Q8_1":
            # gguf-py lists 40 bytes (two float32 scales); ggml-common.h's block_q8_1 holds two halves (36 bytes,
            # static_assert). Q8_1 is ggml's internal dot-product type and never stored in a file.
            assert gguf.GGML_QUANT_SIZES[qtype] == (32, 40) and row["bytes_per_block"] == 36
            continue
        assert gguf.GGML_QUANT_SIZES[qtype] == (row["block_size_weights"], row["bytes_per_block"]), row["ggml_type"]


def test_file_type_names_match_llama_cpps_gguf_package() -> None:
    names = {t.value: t.name.removeprefix("MOSTLY_").removeprefix("ALL_") for t in gguf.LlamaFileType}
    for file_type_id, name in FILE_TYPES.items():
        assert names[file_type_id] == name


def test_the_page_reads_slices_until_the_header_is_complete(files: dict) -> None:
    path, written = files[("gemma3", GEMMA3.name, "Q4_0")]
    raw = path.read_bytes()
    reader = HeaderBuffer(len(raw), chunk_bytes=1024)
    offset, length = reader.first_read()
    reads = 0
    while True:
        reads += 1
        result = reader.feed(offset, raw[offset : offset + length])
        if not isinstance(result, tuple):
            break
        offset, length = result
    assert result.tensor_types == written
    assert len(reader.buffer) < 2 * result.header_bytes + 1024  # never (much of) the tensor data
    assert reads < 10


def test_a_file_cut_inside_its_header_is_named(files: dict) -> None:
    path, _ = files[("llama", DENSE.name, "Q4_K_M")]
    raw = path.read_bytes()[:500]
    reader = HeaderBuffer(len(raw))
    with pytest.raises(InputError, match="cut short"):
        reader.feed(0, raw)
    with pytest.raises(InputError, match="expected the bytes from offset 0"):
        HeaderBuffer(10).feed(5, b"x")
