"""Write real GGUF files with llama.cpp's own ``gguf`` package, for the tests (never imported by the app).

:func:`write_gguf` lays out every tensor of a :class:`~dashboard.memory.ModelSpec` in the ggml type llama.cpp's
quant mix gives it (zero-filled data of the exact byte size), with the metadata keys llama.cpp's converter
writes, so the reader is tested against files made by the reference writer rather than by itself.
"""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from dashboard.memory import ModelSpec, ggml_types, tensor_types, tensors

FILE_TYPE_IDS = {t.name.removeprefix("MOSTLY_").removeprefix("ALL_"): t.value for t in gguf.LlamaFileType}


def _numpy_tensor(n_elements: int, row_length: int, n_experts: int, ggml_type: str) -> np.ndarray:
    """Zero data of the exact size, in numpy's (reversed ggml) shape; quantised types as raw bytes."""
    rows = n_elements // row_length
    lead = (n_experts, rows // n_experts) if n_experts > 1 else (rows,)
    if ggml_type == "F32":
        return np.zeros((*lead, row_length), np.float32)
    if ggml_type == "F16":
        return np.zeros((*lead, row_length), np.float16)
    t = ggml_types()[ggml_type]
    return np.zeros((*lead, row_length // t.block_size_weights * t.bytes_per_block), np.uint8)


def write_gguf(
    path: Path,
    spec: ModelSpec,
    quant: str,
    *,
    arch: str = "llama",
    name: str | None = None,
    endianess: gguf.GGUFEndian = gguf.GGUFEndian.LITTLE,
    extra: dict[str, object] | None = None,
    with_tokens: bool = True,
) -> dict[str, str]:
    """Write ``spec`` quantised to ``quant`` as a GGUF file; returns ``{tensor name: ggml type}`` as written."""
    types = tensor_types(spec, quant)
    w = gguf.GGUFWriter(path, arch, endianess=endianess)
    w.add_name(name or spec.name)
    w.add_block_count(spec.n_layers)
    w.add_context_length(spec.max_context)
    w.add_embedding_length(spec.hidden_size)
    w.add_feed_forward_length(spec.resolved().ffn_hidden_size or 0)
    w.add_head_count(spec.n_heads)
    if spec.is_mla:
        # llama.cpp's converter writes MLA as MQA over the latent (convert_hf_to_gguf.py, DeepseekV2Model):
        # one KV head of kv_lora_rank + rope dims; the per-head sizes go to the *_mla keys
        rope, kv_lora = spec.rope_head_dim or 0, spec.kv_lora_rank or 0
        w.add_head_count_kv(1)
        w.add_key_length(kv_lora + rope)
        w.add_value_length(kv_lora)
        w.add_key_length_mla(spec.head_dim + rope)
        w.add_value_length_mla(spec.v_head_dim or spec.head_dim)
        w.add_kv_lora_rank(kv_lora)
        if spec.q_lora_rank:
            w.add_q_lora_rank(spec.q_lora_rank)
        w.add_rope_dimension_count(rope)
        w.add_leading_dense_block_count(spec.n_dense_layers)
        if spec.n_shared_experts:
            w.add_expert_shared_count(spec.n_shared_experts)
    else:
        w.add_head_count_kv(spec.n_kv_heads)
        w.add_key_length(spec.head_dim)
        w.add_value_length(spec.head_dim)
    w.add_vocab_size(spec.vocab_size)
    if spec.n_experts > 1:
        w.add_expert_count(spec.n_experts)
        w.add_expert_used_count(spec.n_experts_used)
        if spec.expert_ffn_hidden_size:
            w.add_expert_feed_forward_length(spec.expert_ffn_hidden_size)
    if spec.sliding_window:
        w.add_sliding_window(spec.sliding_window)
    if quant in FILE_TYPE_IDS:
        w.add_file_type(FILE_TYPE_IDS[quant])
    if with_tokens:
        w.add_tokenizer_model("gpt2")
        w.add_token_list([f"tok{i}" for i in range(spec.vocab_size)])
        w.add_token_types([1] * spec.vocab_size)
    for key, value in (extra or {}).items():
        if isinstance(value, bool):
            w.add_bool(key, value)
        elif isinstance(value, int):
            w.add_uint32(key, value)
        elif isinstance(value, str):
            w.add_string(key, value)
        else:
            w.add_array(key, value)  # type: ignore[arg-type]
    written: dict[str, str] = {}
    for t, ggml_type in zip(tensors(spec), types["ggml_type"].to_list(), strict=True):
        experts = spec.n_experts if t.is_expert_stack else 1
        data = _numpy_tensor(t.n_elements, t.row_length, experts, ggml_type)
        raw = None if ggml_type in ("F32", "F16") else gguf.GGMLQuantizationType[ggml_type]
        w.add_tensor(t.name, data, raw_dtype=raw)
        written[t.name] = ggml_type
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return written
