"""A model read from a pasted config.json or an opened .gguf: selector, confirmation, replacement, link, exact size
(state and panel, without a browser; tests/ui/test_model_input_ui.py drives the page)."""

from __future__ import annotations

import base64
from pathlib import Path

import polars as pl
import pytest

from dashboard.gguf_file import read_gguf_header
from dashboard.memory import GIB, ModelSpec, estimate, tensors
from dashboard.state import CONFIG_MODEL, Explorer, UserConstraints
from dashboard.views.gguf_input import GGUFFileInput
from dashboard.views.user_data import UserDataPanel
from tests.gguf_writer import write_gguf

CONFIGS = Path(__file__).parent / "fixtures" / "configs"
QWEN3_MOE = (CONFIGS / "qwen3_30b_a3b.json").read_text(encoding="utf-8")
TINY = ModelSpec(
    name="Tiny GGUF",
    params=1.0,
    n_layers=4,
    n_heads=4,
    n_kv_heads=2,
    head_dim=64,
    hidden_size=256,
    vocab_size=1000,
    max_context=4096,
    ffn_hidden_size=512,
)


def paste(panel: UserDataPanel, text: str) -> None:
    panel._config.value = text
    panel._on_config()


def test_a_pasted_moe_config_is_the_model_by_its_name_with_a_confirmation() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    paste(panel, QWEN3_MOE)
    c = ex.constraints
    assert c.model == CONFIG_MODEL
    label = "Qwen3MoeForCausalLM (yours)"
    assert c.param.model.names[label] == CONFIG_MODEL  # the selector shows the model's name
    spec = ex.recommendation.constraints.model
    assert spec.params == pytest.approx(30.53e9, rel=0.001) and spec.is_moe
    for text in ("30.53B parameters", "48 layers", "128 experts, 8 active per token", "40,960 tokens"):
        assert text in panel.status
    # an honest fit: the 30B model's own sizes, not a 3B model's
    q4 = ex.model_sizes.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["weights_gib"] == pytest.approx(estimate(spec, "Q4_K_M").weights_gib)
    assert q4["weights_gib"] > 17


def test_a_new_paste_replaces_the_model_at_once() -> None:
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    paste(panel, QWEN3_MOE)
    before = ex.n_recomputes
    paste(panel, (CONFIGS / "qwen3_8b.json").read_text(encoding="utf-8"))
    assert ex.n_recomputes > before
    assert ex.recommendation.constraints.model.params == pytest.approx(8.19e9, rel=0.001)
    assert "Qwen3ForCausalLM (yours)" in ex.constraints.param.model.names


def test_the_link_carries_the_pasted_model() -> None:
    ex = Explorer()
    paste(UserDataPanel(explorer=ex), QWEN3_MOE)
    query = ex.constraints.query()
    assert "model" not in query and len(query["arch"]) < 200
    other = UserConstraints()
    notices = other.apply_query({k: [v] for k, v in query.items()})
    assert notices == [] and other.model == CONFIG_MODEL
    assert [(t.name, t.n_elements) for t in tensors(other.config_spec)] == [
        (t.name, t.n_elements) for t in tensors(ex.constraints.config_spec)
    ]
    bad = UserConstraints()
    notices = bad.apply_query({"arch": ["V.1~L.99999~h.1"]})
    assert bad.model != CONFIG_MODEL and "Ignored arch=" in notices[0]


def test_an_opened_gguf_is_the_model_with_its_exact_size(tmp_path: Path) -> None:
    path = tmp_path / "tiny-Q4_K_M.gguf"
    write_gguf(path, TINY, "Q4_K_M")
    raw = path.read_bytes()
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    panel._opened(path.name, len(raw), read_gguf_header(raw))
    assert ex.constraints.model == CONFIG_MODEL
    assert f"{len(raw):,} bytes" in panel.status and "exact" in panel.status
    q4 = ex.model_sizes.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["weights_gib"] * GIB == pytest.approx(len(raw))
    # a vision projector opened next adds its size to the same model
    projector = tmp_path / "mmproj-tiny-f16.gguf"
    write_gguf(projector, TINY, "F16", arch="clip")
    panel._opened(projector.name, projector.stat().st_size, read_gguf_header(projector.read_bytes()))
    q4 = ex.model_sizes.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["weights_gib"] * GIB == pytest.approx(len(raw) + projector.stat().st_size)
    assert "Vision projector" in panel.status
    # a second projector replaces the first (one per model)
    panel._opened(projector.name, 1000, read_gguf_header(projector.read_bytes()))
    q4 = ex.model_sizes.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["weights_gib"] * GIB == pytest.approx(len(raw) + 1000)
    assert ex.constraints.config_spec.name == f"Tiny GGUF + {projector.name}"


def test_a_split_part_or_a_broken_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "big-00001-of-00003.gguf"
    write_gguf(path, TINY, "Q8_0", extra={"split.count": 3, "split.no": 0})
    ex = Explorer()
    panel = UserDataPanel(explorer=ex)
    before = ex.constraints.model
    panel._opened(path.name, path.stat().st_size, read_gguf_header(path.read_bytes()))
    assert panel.status_kind == "danger" and "split into 3 files" in panel.status
    assert ex.constraints.model == before


def test_the_file_button_reads_only_slices_until_the_header(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    written = write_gguf(path, TINY, "Q5_K_M")
    raw = path.read_bytes()
    got: list[tuple[str, int, object]] = []
    button = GGUFFileInput(on_header=lambda name, size, result: got.append((name, size, result)))
    sent: list[dict] = []
    button._send_msg = sent.append  # type: ignore[method-assign]  # what would go to the browser
    button._handle_msg({"kind": "start", "id": "f1", "name": path.name, "size": len(raw)})
    served = 0
    while sent and sent[-1]["kind"] == "read":
        ask = sent.pop()
        chunk = raw[ask["offset"] : ask["offset"] + ask["length"]]
        served += len(chunk)
        button._handle_msg(
            {"kind": "chunk", "id": "f1", "offset": ask["offset"], "data": base64.b64encode(chunk).decode()}
        )
    assert sent[-1] == {"kind": "done", "id": "f1"}
    name, size, info = got[0]
    assert (name, size) == (path.name, len(raw)) and info.tensor_types == written  # type: ignore[union-attr]
    assert not button.busy
    button._handle_msg({"kind": "chunk", "id": "unknown", "offset": 0, "data": "AAAA"})  # ignored
    button._handle_msg("not a message")  # ignored
    assert len(got) == 1


def test_the_whole_page_takes_a_pasted_model_and_a_second_one() -> None:
    """Every view's watchers together (the comparison view once looped on a group not in its list)."""
    from bokeh.document import Document

    from dashboard.app import build_app
    from dashboard.hf_config import spec_from_hf_config
    from dashboard.state import Explorer

    explorer = Explorer()
    app = build_app(explorer)
    app.server_doc(Document())
    constraints = explorer.constraints
    constraints.use_config_spec(spec_from_hf_config(QWEN3_MOE))
    assert explorer.error == "" and explorer.frontier_group == "Qwen3MoeForCausalLM"
    constraints.use_config_spec(spec_from_hf_config((CONFIGS / "qwen3_8b.json").read_text(encoding="utf-8")))
    assert explorer.recommendation.constraints.model.name == "Qwen3ForCausalLM"
    constraints.model = "Llama-3.1-8B"
    assert explorer.error == ""
