"""llama-perplexity logs for tests, built from the repository's fixture (shared by unit and browser tests)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def kld_log_labelled(label: str, file_type: str) -> str:
    """The repository's llama-perplexity KLD log, as loaded from a file named with ``label``."""
    text = (FIXTURES / "llama_perplexity_kld_q4_k_m.txt").read_text(encoding="utf-8")
    return text.replace("Meta-Llama-3-8B-Q4_K_M.gguf", f"/models/Qwen3-30B-A3B-{label}.gguf").replace(
        "Q4_K - Medium", file_type
    )
