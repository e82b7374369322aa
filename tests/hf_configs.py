"""config.json texts for tests: a small Llama-shaped model with a given name and depth."""

from __future__ import annotations

import json


def config(name: str, layers: int) -> str:
    """A Llama-shaped config.json (2,048 wide, 8 KV heads, Llama 3's vocabulary) named ``name``."""
    return json.dumps(
        {
            "model_type": "llama",
            "_name_or_path": name,
            "hidden_size": 2048,
            "intermediate_size": 8192,
            "num_attention_heads": 32,
            "num_hidden_layers": layers,
            "num_key_value_heads": 8,
            "vocab_size": 128256,
        }
    )
