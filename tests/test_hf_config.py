"""config.json read the way transformers and llama.cpp do: real config texts of every supported model type,
published GGUF sizes, and the errors for what the reader does not understand.

Where each config text and each published size comes from: ``tests/fixtures/configs/SOURCES.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.hf_config import ARCHITECTURES, describe, spec_from_hf_config
from dashboard.ingest import InputError
from dashboard.memory import GB, GIB, catalog, estimate, kv_cache_bytes, tensor_types, tensors

CONFIGS = Path(__file__).parent / "fixtures" / "configs"


def read(name: str, **overrides: object) -> object:
    config = json.loads((CONFIGS / f"{name}.json").read_text(encoding="utf-8"))
    config.update(overrides)
    return spec_from_hf_config(json.dumps(config))


def file_gb(spec: object, quant: str) -> float:
    return estimate(spec, quant, 4096).weights_gib * GIB / GB  # type: ignore[arg-type]


# --- the MoE model of the issue -------------------------------------------------------------------------


def test_qwen3_30b_a3b_is_a_30b_moe_not_a_dense_3b() -> None:
    spec = read("qwen3_30b_a3b")
    assert spec.params == pytest.approx(30.53e9, rel=0.001)  # Qwen: "30.5B in total, 3.3B activated"
    assert spec.active_params == pytest.approx(3.35e9, rel=0.01)
    assert spec.is_moe and (spec.n_experts, spec.n_experts_used) == (128, 8)
    assert spec.expert_ffn_hidden_size == 768 and spec.qk_norm
    assert (spec.n_layers, spec.n_heads, spec.n_kv_heads, spec.head_dim) == (48, 32, 4, 128)
    assert "128 experts, 8 active" in describe(spec)


# bartowski/Qwen_Qwen3-30B-A3B-GGUF (llama.cpp b5200), decimal GB as Hugging Face lists them
QWEN3_30B_A3B_GB = {"BF16": 61.10, "Q8_0": 32.48, "Q6_K": 25.10, "Q5_K_M": 21.74, "Q5_K_S": 21.10}
# bartowski/phi-4-GGUF (llama.cpp b4456)
PHI_4_GB = {
    "F16": 29.32,
    "Q8_0": 15.58,
    "Q6_K": 12.03,
    "Q5_K_M": 10.60,
    "Q5_K_S": 10.15,
    "Q4_K_M": 9.05,
    "Q4_K_S": 8.44,
    "Q4_0": 8.41,
}
# bartowski/google_gemma-3-12b-it-GGUF (imatrix), as quoted in stduhpf/google-gemma-3-12b-it-qat-q4_0-gguf-small
GEMMA_3_12B_GB = {"Q4_0": 6.91, "Q5_K_S": 8.23}


@pytest.mark.parametrize(
    ("config", "quant", "published_gb"),
    [("qwen3_30b_a3b", q, gb) for q, gb in QWEN3_30B_A3B_GB.items()]
    + [("phi_4", q, gb) for q, gb in PHI_4_GB.items()]
    + [("gemma_3_12b_it", q, gb) for q, gb in GEMMA_3_12B_GB.items()],
)
def test_published_gguf_sizes_within_two_percent(config: str, quant: str, published_gb: float) -> None:
    assert file_gb(read(config), quant) == pytest.approx(published_gb, rel=0.02)


def test_published_sizes_are_in_fact_within_half_a_percent() -> None:
    """The 2% acceptance is loose: every published size above is reproduced within 0.5%."""
    worst = max(
        abs(file_gb(read(config), q) / gb - 1)
        for config, table in (
            ("qwen3_30b_a3b", QWEN3_30B_A3B_GB),
            ("phi_4", PHI_4_GB),
            ("gemma_3_12b_it", GEMMA_3_12B_GB),
        )
        for q, gb in table.items()
    )
    assert worst < 0.005


# --- every supported model type: a real config text --------------------------------------------------------

# config fixture -> (model_type, total parameters it must count, where that count is stated)
REAL_CONFIGS = {
    "llama_3_1_8b": ("llama", 8.03e9),
    "mistral_7b_v0_1": ("mistral", 7.24e9),
    "mixtral_8x7b": ("mixtral", 46.70e9),
    "qwen2_5_7b": ("qwen2", 7.62e9),
    "qwen1_5_moe_a2_7b": ("qwen2_moe", 14.32e9),
    "qwen3_8b": ("qwen3", 8.19e9),
    "qwen3_30b_a3b": ("qwen3_moe", 30.53e9),
    "gemma_2_9b": ("gemma2", 9.24e9),
    "gemma_3_12b_it": ("gemma3_text", 11.77e9),
    "gemma_3_4b": ("gemma3_text", 3.88e9),
    "phi_3_mini_4k": ("phi3", 3.82e9),
    "phi_4": ("phi3", 14.66e9),
    "phi_3_medium": ("phi3", 13.96e9),
    "deepseek_v2_lite": ("deepseek_v2", 15.71e9),
    "granite_3_1_3b_a800m": ("granitemoe", 3.30e9),
}


@pytest.mark.parametrize("name", sorted(REAL_CONFIGS))
def test_real_config_reads_to_its_parameter_count(name: str) -> None:
    model_type, params = REAL_CONFIGS[name]
    spec = read(name)
    assert spec.family == model_type
    assert spec.params == pytest.approx(params, rel=0.005)


def test_every_supported_model_type_has_a_test() -> None:
    tested = {t for t, _ in REAL_CONFIGS.values()} | {"gemma", "nemotron", "deepseek_v3", "gpt_oss"}
    assert tested == set(ARCHITECTURES)


@pytest.mark.parametrize(
    ("config", "catalog_name"),
    [
        ("llama_3_1_8b", "Llama-3.1-8B"),
        ("qwen2_5_7b", "Qwen2.5-7B"),
        ("qwen3_8b", "Qwen3-8B"),
        ("mistral_7b_v0_1", "Mistral-7B-v0.1"),
        ("mixtral_8x7b", "Mixtral-8x7B"),
        ("gemma_2_9b", "Gemma-2-9B"),
        ("phi_3_mini_4k", "Phi-3-mini-4k-instruct"),
    ],
)
def test_config_gives_the_catalog_models_file_and_kv_cache(config: str, catalog_name: str) -> None:
    """The catalog's sizes are checked against published and llama.cpp-made files (tests/test_memory.py)."""
    spec, reference = read(config), catalog()[catalog_name]
    for quant in ("Q4_K_M", "Q8_0", "IQ2_XS"):
        assert file_gb(spec, quant) == pytest.approx(file_gb(reference, quant), rel=0.002)
    assert kv_cache_bytes(spec, 32768) == kv_cache_bytes(reference, 32768)


# --- defaults real files leave out ------------------------------------------------------------------------


def test_gemma3_text_config_without_heads_or_vocab_uses_transformers_defaults() -> None:
    spec = read("gemma_3_4b")  # text_config gives only hidden_size, intermediate_size, num_hidden_layers
    assert (spec.n_heads, spec.n_kv_heads, spec.head_dim, spec.vocab_size) == (8, 4, 256, 262208)
    assert spec.tied_embeddings and spec.qk_norm and spec.post_norms
    assert "num_attention_heads=8" in spec.notes and "vocab_size=262208" in spec.notes
    # Gemma-3's 5:1 local/global layout in the KV cache: 34 layers, every 6th global
    assert spec.n_swa_layers == 29 and spec.sliding_window == 4096


def test_gemma3_sliding_window_layers_shrink_the_kv_cache() -> None:
    spec = read("gemma_3_12b_it")
    assert spec.n_swa_layers == 40 and spec.sliding_window == 1024
    full = 48 * 2 * 8 * 256 * 2 * 32768  # every layer holding all 32768 cells, f16
    global_only = 8 * 2 * 8 * 256 * 2 * 32768 + 40 * 2 * 8 * 256 * 2 * 1536  # window + ubatch, padded to 256
    assert kv_cache_bytes(spec, 32768) == global_only < full / 4


@pytest.mark.parametrize("config", ["gemma_2_9b", "gemma_3_12b_it"])
def test_gemma_ties_embeddings_when_the_config_does_not_say(config: str) -> None:
    spec = read(config)
    assert spec.tied_embeddings
    assert "output.weight" not in {t.name for t in tensors(spec)}


def test_gemma_1_reads_from_the_class_defaults() -> None:
    """GemmaConfig's defaults are gemma-7b's (checkpoint google/gemma-7b in the class docstring)."""
    spec = spec_from_hf_config(json.dumps({"model_type": "gemma", "hidden_size": 3072, "num_hidden_layers": 28}))
    assert spec.tied_embeddings and spec.head_dim == 256 and spec.n_heads == 16
    assert spec.params == pytest.approx(8.54e9, rel=0.005)  # Gemma 7B's own count, embeddings included


def test_deepseek_v3_reads_from_its_class_defaults() -> None:
    spec = spec_from_hf_config(
        json.dumps({"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61, "vocab_size": 129280})
    )
    reference = catalog()["DeepSeek-V3"]
    assert spec.is_mla and spec.kv_lora_rank == 512 and spec.n_dense_layers == 3
    assert (spec.n_experts, spec.n_experts_used, spec.n_shared_experts) == (256, 8, 1)
    assert spec.params == pytest.approx(reference.params, rel=0.001)
    assert kv_cache_bytes(spec, 8192) == kv_cache_bytes(reference, 8192)
    assert spec.active_params == pytest.approx(37.5e9, rel=0.01)  # DeepSeek: 37B activated


# --- MoE key styles -------------------------------------------------------------------------------------------


def test_qwen2_moe_shared_expert_and_its_gate() -> None:
    spec = read("qwen1_5_moe_a2_7b")
    names = {t.name for t in tensors(spec)}
    assert spec.shared_expert_ffn_hidden_size == 5632 and spec.shared_expert_gate
    assert {"blk.0.ffn_up_shexp.weight", "blk.0.ffn_gate_inp_shexp.weight", "blk.0.attn_q.bias"} <= names
    assert spec.active_params == pytest.approx(2.69e9, rel=0.01)  # the A2.7B of its name: 2.7B activated


def test_qwen_moe_sparse_step_and_mlp_only_layers() -> None:
    every = read("qwen3_30b_a3b")
    sparse = read("qwen3_30b_a3b", decoder_sparse_step=2, mlp_only_layers=[1])
    moe = [i for i in range(48) if sparse.is_moe_layer(i)]
    assert moe == [i for i in range(48) if (i + 1) % 2 == 0 and i != 1]
    assert 1 not in moe and all(every.is_moe_layer(i) for i in range(48))
    assert "blk.0.ffn_up.weight" in {t.name for t in tensors(sparse)}  # a dense FFN of intermediate_size
    assert sparse.params < every.params


def test_deepseek_dense_first_layers_and_shared_experts() -> None:
    spec = read("deepseek_v2_lite")
    assert spec.n_dense_layers == 1 and spec.n_shared_experts == 2 and spec.q_lora_rank is None
    names = [t.name for t in tensors(spec)]
    assert "blk.0.ffn_up.weight" in names and "blk.1.ffn_up_exps.weight" in names
    assert "blk.1.ffn_up_shexp.weight" in names


def test_mixtral_and_granite_use_num_local_experts() -> None:
    mixtral, granite = read("mixtral_8x7b"), read("granite_3_1_3b_a800m")
    assert (mixtral.n_experts, mixtral.n_experts_used, mixtral.expert_ffn_hidden_size) == (8, 2, 14336)
    assert (granite.n_experts, granite.n_experts_used, granite.expert_ffn_hidden_size) == (40, 8, 512)
    assert granite.tied_embeddings


def test_gpt_oss_20b() -> None:
    """gpt-oss-20b's dimensions as NVIDIA's Megatron-Bridge documents them (no config.json text stored)."""
    config = {
        "model_type": "gpt_oss",
        "architectures": ["GptOssForCausalLM"],
        "num_hidden_layers": 24,
        "num_local_experts": 32,
        "num_experts_per_tok": 4,
        "hidden_size": 2880,
        "intermediate_size": 2880,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "head_dim": 64,
        "vocab_size": 201088,
        "sliding_window": 128,
    }
    spec = spec_from_hf_config(json.dumps(config))
    assert spec.params == pytest.approx(20.9e9, rel=0.01)  # OpenAI model card: 20.9B total, 3.6B active
    # OpenAI's active count leaves out the token embedding (a lookup); active_params counts every tensor used
    embedding = 201088 * 2880
    assert spec.active_params - embedding == pytest.approx(3.6e9, rel=0.01)
    assert spec.n_swa_layers == 12 and spec.sliding_window == 128 and spec.attention_sinks
    names = {t.name for t in tensors(spec)}
    assert {"blk.0.attn_sinks.weight", "blk.0.ffn_up_exps.bias", "blk.0.attn_output.bias"} <= names
    # MXFP4 experts, Q8_0 elsewhere (llama.cpp's MXFP4_MOE)
    mix = tensor_types(spec, "MXFP4_MOE")
    assert set(mix.filter(mix["tensor"].str.contains("_exps.weight"))["ggml_type"]) == {"MXFP4"}


# --- MLP form and fused tensors ------------------------------------------------------------------------------


def test_nemotron_relu2_mlp_has_no_gate() -> None:
    """Nemotron-Mini-4B-Instruct's stated dimensions (model card: embedding 3072, 32 heads, MLP 9216)."""
    config = {
        "model_type": "nemotron",
        "architectures": ["NemotronForCausalLM"],
        "hidden_act": "relu2",
        "hidden_size": 3072,
        "intermediate_size": 9216,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "num_hidden_layers": 32,
        "vocab_size": 256000,
        "max_position_embeddings": 4096,
    }
    spec = spec_from_hf_config(json.dumps(config))
    names = {t.name for t in tensors(spec)}
    assert not spec.gated_ffn and "blk.0.ffn_gate.weight" not in names and "blk.0.ffn_up.weight" in names
    assert "blk.0.attn_norm.bias" in names  # LayerNorm with bias
    gated = spec_from_hf_config(json.dumps({**config, "model_type": "llama"}))
    assert gated.params / spec.params == pytest.approx(1.21, abs=0.02)  # the +21% of counting a gate


def test_phi3_stores_one_fused_qkv_tensor() -> None:
    spec = read("phi_4")
    names = [t.name for t in tensors(spec)]
    assert "blk.0.attn_qkv.weight" in names and "blk.0.attn_q.weight" not in names
    mix = tensor_types(spec, "Q4_K_M")
    assert set(mix.filter(mix["tensor"].str.ends_with("attn_qkv.weight"))["ggml_type"]) == {"Q5_K"}
    mix = tensor_types(spec, "Q5_K_M")
    assert set(mix.filter(mix["tensor"].str.ends_with("attn_qkv.weight"))["ggml_type"]) == {"Q6_K"}


def test_phi3_sliding_window_is_not_applied() -> None:
    spec = read("phi_3_mini_4k")  # sliding_window 2047 in the config; llama.cpp disables it for Phi-3
    assert spec.n_swa_layers == 0 and "not used by llama.cpp" in spec.notes


def test_qwen2_has_qkv_bias_and_qwen3_does_not() -> None:
    assert read("qwen2_5_7b").attention_bias and not read("qwen3_8b").attention_bias


# --- what is not understood is an error --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "rwkv7", "hidden_size": 2048, "num_hidden_layers": 24}, "model_type 'rwkv7' is not one"),
        ({"hidden_size": 4096, "num_hidden_layers": 32}, "no model_type"),
        ({"model_type": "llama", "num_hidden_layers": 32}, "missing field 'hidden_size'"),
        ({"model_type": "llama", "hidden_size": 4096}, "missing field 'num_hidden_layers'"),
        (
            {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 2, "num_local_experts": 8},
            "describes experts, but model_type 'llama'",
        ),
        (
            {
                "model_type": "qwen3",
                "hidden_size": 4096,
                "num_hidden_layers": 2,
                "layer_types": ["linear_attention"] * 2,
            },
            "linear_attention",
        ),
        (
            {"model_type": "llava", "text_config": {"hidden_size": 4096, "num_hidden_layers": 2}},
            "text_config of model_type 'llava' names no model_type",
        ),
        ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 10**9}, "more than the largest supported"),
        ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 2.5}, "positive whole number"),
        ({"model_type": "llama", "hidden_size": True, "num_hidden_layers": 2}, "positive whole number"),
        ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 2, "tie_word_embeddings": "yes"}, "true or"),
        (
            {"model_type": "mixtral", "hidden_size": 4096, "num_hidden_layers": 2, "num_experts_per_tok": 9},
            "more than the 8 experts",
        ),
        (
            {
                "model_type": "deepseek_v2",
                "hidden_size": 2048,
                "num_hidden_layers": 2,
                "num_experts_per_tok": 6,
                "moe_layer_freq": 2,
            },
            "moe_layer_freq",
        ),
    ],
)
def test_what_is_not_understood_is_named(config: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        spec_from_hf_config(json.dumps(config))


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        spec_from_hf_config("{hidden_size: 4096")
    with pytest.raises(InputError, match="JSON object"):
        spec_from_hf_config("[1, 2]")


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "model_type",
                "hidden_size",
                "num_hidden_layers",
                "num_attention_heads",
                "num_key_value_heads",
                "intermediate_size",
                "vocab_size",
                "num_local_experts",
                "num_experts",
                "num_experts_per_tok",
                "moe_intermediate_size",
                "head_dim",
                "sliding_window",
                "layer_types",
                "text_config",
                "tie_word_embeddings",
            ]
        ),
        st.one_of(
            st.sampled_from(sorted(ARCHITECTURES)),
            st.integers(-5, 5000),
            st.floats(allow_nan=True),
            st.booleans(),
            st.none(),
            st.text(max_size=8),
            st.lists(st.sampled_from(["full_attention", "sliding_attention", "x"]), max_size=4),
            st.just({}),
        ),
    )
)
def test_fuzz_config_reader_raises_only_input_error(config: dict) -> None:
    try:
        spec = spec_from_hf_config(json.dumps(config))
    except InputError:
        return
    assert spec.params > 0 and spec.n_layers >= 1
