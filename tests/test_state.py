"""The Parameterized state without a browser: derived frames, selection, URL query handling."""

from __future__ import annotations

import param
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.frames import BREAKDOWN_REFERENCE_QUANTS
from dashboard.models import catalog
from dashboard.quants import quant_summary
from dashboard.recommend import VRAM_SIZES_GB, Constraints, recommend
from dashboard.state import CUSTOM_MODEL, DEFERRABLE_FRAMES, Explorer, UserConstraints, constraints_from_query


def all_parameters_documented(obj: param.Parameterized) -> list[str]:
    return [n for n, p in obj.param.objects().items() if n != "name" and not p.doc]


def project_parameterized_classes() -> list[type[param.Parameterized]]:
    """Every param.Parameterized subclass defined in a dashboard module (views included), found by import."""
    import importlib
    import inspect
    import pkgutil

    import dashboard

    classes = []
    for info in pkgutil.walk_packages(dashboard.__path__, "dashboard."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, param.Parameterized) and cls.__module__ == info.name:
                classes.append(cls)
    return classes


def test_every_parameter_has_a_doc() -> None:
    classes = project_parameterized_classes()
    names = {c.__name__ for c in classes}
    # the search reaches state and every view module, the sidebar included
    assert {
        "UserConstraints",
        "Explorer",
        "CustomModel",
        "QualityScatter",
        "UserDataPanel",
        "DecisionTree",
        "Sidebar",
    } <= names
    assert len(classes) >= 14
    undocumented = {c.__name__: all_parameters_documented(c) for c in classes if all_parameters_documented(c)}
    assert undocumented == {}


def test_derived_frames_follow_the_constraints() -> None:
    ex = Explorer()
    assert ex.recommendation.best.quant == recommend(Constraints("Llama-3.1-8B", 24.0, 8192)).best.quant
    ex.constraints.param.update(model="Llama-3.1-70B", vram_gb=24.0)
    r = recommend(Constraints("Llama-3.1-70B", 24.0, 8192))
    assert ex.recommendation.best.quant == r.best.quant
    assert ex.recommendation.options == r.options
    assert dict(ex.model_sizes.iter_rows()) == {o.quant: o.weights_gib for o in r.options}
    # every catalog model plus the "best model for this memory" row, at every budget
    assert ex.sweet_spots.height == (len(catalog()) + 1) * len(VRAM_SIZES_GB)
    best_row = ex.sweet_spots.filter(pl.col("model") == "Best Llama 3 model")
    assert best_row.filter(pl.col("vram_gb") == 24.0)["quant"].item() == "Llama-3.1-70B IQ2_XXS"
    assert ex.frontier_group == "Llama 3"
    current = ex.frontier.filter("is_current")
    assert current.select("model", "quant").row(0) == ("Llama-3.1-70B", r.best.quant)
    assert ex.cross_model[0].startswith("Within Llama 3 at 24 GB")
    quality = ex.model_quality.filter(pl.col("quant") == r.best.quant).row(0, named=True)
    assert quality["basis_kind"] == "measured" and quality["ppl_increase_pct"] == r.best.ppl_increase_pct
    picks = [r.best.quant, *(o.quant for o in r.runner_ups)]
    assert list(dict.fromkeys(ex.memory_breakdown["quant"])) == [
        *picks,
        *(q for q in BREAKDOWN_REFERENCE_QUANTS if q not in picks),
    ]


def test_deferred_frames_wait_and_then_catch_up() -> None:
    ex = Explorer(deferred=list(DEFERRABLE_FRAMES))
    before = {name: getattr(ex, name) for name in DEFERRABLE_FRAMES}
    ex.constraints.param.update(model="Llama-3.1-70B", vram_gb=48.0, context=16384)
    ex.frontier_group = "Qwen2.5"
    # the recommendation follows at once; the deferred frames are left as they were (not recomputed)
    assert ex.recommendation.constraints.model.name == "Llama-3.1-70B"
    assert all(getattr(ex, name) is before[name] for name in DEFERRABLE_FRAMES)
    ex.deferred = ["sweet_spots"]
    fresh = Explorer()
    fresh.constraints.param.update(model="Llama-3.1-70B", vram_gb=48.0, context=16384)
    fresh.frontier_group = "Qwen2.5"
    for name in ("model_sizes", "model_quality", "speeds", "frontier"):
        assert getattr(ex, name).equals(getattr(fresh, name)), name
    assert ex.sweet_spots is before["sweet_spots"]
    ex.deferred = []
    assert ex.sweet_spots.equals(fresh.sweet_spots)


def test_breakdown_reference_types_span_three_quality_bands() -> None:
    bands = dict(quant_summary().select("quant", "quality_band").iter_rows())
    assert len({bands[q] for q in BREAKDOWN_REFERENCE_QUANTS}) == len(BREAKDOWN_REFERENCE_QUANTS) == 3


def test_one_recompute_per_change() -> None:
    ex = Explorer()
    before = ex.n_recomputes
    ex.constraints.vram_gb = 12.0
    assert ex.n_recomputes == before + 1
    ex.constraints.param.update(context=4096, kv_cache="q8_0")
    assert ex.n_recomputes == before + 2


def test_selection_is_one_shared_parameter() -> None:
    ex = Explorer()
    seen = []
    ex.param.watch(lambda e: seen.append(e.new), "selected_quants")
    ex.select(["Q4_K_M", "IQ2_XS", "Q4_K_M", "not-a-quant"])
    assert ex.selected_quants == ["Q4_K_M", "IQ2_XS"]
    ex.clear_selection()
    assert ex.selected_quants == []
    assert seen == [["Q4_K_M", "IQ2_XS"], []]


def test_custom_model_is_evaluated() -> None:
    ex = Explorer()
    ex.constraints.custom.param.update(
        model_name="Mine",
        params_b=13.0,
        n_layers=40,
        hidden_size=5120,
        n_heads=40,
        n_kv_heads=40,
        head_dim=128,
        vocab_size=32000,
    )
    ex.constraints.model = CUSTOM_MODEL
    assert ex.recommendation.constraints.model.name == "Mine"
    assert ex.error == ""


def test_impossible_custom_model_shows_an_error_and_keeps_the_last_result() -> None:
    ex = Explorer()
    ex.constraints.model = CUSTOM_MODEL
    last = ex.recommendation
    ex.constraints.custom.param.update(params_b=0.05, hidden_size=8192, n_layers=80)
    assert "fewer than the attention and embedding weights" in ex.error
    assert ex.recommendation is last


def test_url_query_restores_valid_values() -> None:
    valid, notices = constraints_from_query(
        {
            "model": ["Llama-3.1-70B"],
            "vram_gb": ["24"],
            "context": ["8192"],
            "kv_cache": ["q8_0"],
            "backend": ["Metal"],
            "priority": ["size"],
        }
    )
    assert valid == {
        "model": "Llama-3.1-70B",
        "vram_gb": 24.0,
        "context": 8192,
        "kv_cache": "q8_0",
        "backend": "Metal",
        "priority": "size",
    }
    assert notices == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"vram_gb": ["-5"]}, "vram_gb"),
        ({"context": ["1e99"]}, "context"),
        ({"model": ["<script>alert(1)</script>"]}, "model"),
        ({"colour": ["red"]}, "unknown URL parameter 'colour'"),
        ({"vram_gb": ["nan"]}, "vram_gb"),
    ],
)
def test_hostile_url_values_fall_back_with_a_notice(query: dict, message: str) -> None:
    valid, notices = constraints_from_query(query)
    assert valid == {}
    assert len(notices) == 1 and message in notices[0]


def test_repeated_keys_use_the_last_value() -> None:
    valid, _ = constraints_from_query({"vram_gb": ["8", "48"]})
    assert valid == {"vram_gb": 48.0}


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "model",
                "vram_gb",
                "context",
                "kv_cache",
                "backend",
                "priority",
                "device",
                "n_gpus",
                "bandwidth_gb_per_s",
                "min_tokens_per_s",
                "raise_metal_limit",
                "metal_wired_limit_mb",
                "x",
            ]
        ),
        st.lists(st.text(max_size=30), min_size=1, max_size=3),
    )
)
def test_any_query_gives_constraints_the_state_accepts(query: dict) -> None:
    valid, notices = constraints_from_query(query)
    c = UserConstraints()
    c.apply(valid)  # never raises: only valid values come through
    assert len(valid) + len(notices) == len(query)


def test_picking_a_device_sets_memory_backend_and_speed() -> None:
    ex = Explorer()
    c = ex.constraints
    c.device = "GeForce RTX 4090"
    assert (c.vram_gb, c.backend) == (24.0, "CUDA")
    assert ex.recommendation.best.generation_tokens_per_s > 0
    assert "tokens/s" in ex.recommendation.summary()
    assert ex.speeds["generation_tokens_per_s"].null_count() == 0
    c.device = "Apple M3 Max"
    assert (c.vram_gb, c.backend) == (64.0, "Metal")
    assert ex.recommendation.constraints.budget_gb == pytest.approx(51.54, abs=0.01)
    assert "Metal limit: 51.5 GB" in c.device_note() and "iogpu.wired_limit_mb" in c.device_note()
    c.raise_metal_limit = True
    assert ex.recommendation.constraints.budget_gb == pytest.approx(c.metal_wired_limit_mb * 2**20 / 1e9)
    assert "raised" in c.device_note()
    # another backend than the device's: the device becomes custom with the same memory and bandwidth
    c.backend = "CPU"
    assert c.device == "custom" and c.bandwidth_gb_per_s == 400.0 and c.vram_gb == 64.0
    assert not c.device_note()
    c.param.update(device="GeForce RTX 4090", n_gpus=2)
    assert ex.recommendation.constraints.budget_gb == 48
    c.min_tokens_per_s = 50
    assert ex.recommendation.best.generation_tokens_per_s >= 50


def test_url_devices_are_validated_and_keep_their_memory() -> None:
    valid, notices = constraints_from_query(
        {
            "device": ["Apple M2 Max"],
            "vram_gb": ["32"],
            "n_gpus": ["1"],
            "raise_metal_limit": ["true"],
            "metal_wired_limit_mb": ["28000"],
            "min_tokens_per_s": ["20"],
        }
    )
    assert notices == []
    c = UserConstraints()
    c.apply(valid)
    assert (c.device, c.vram_gb, c.raise_metal_limit, c.metal_wired_limit_mb) == ("Apple M2 Max", 32.0, True, 28000)
    assert c.values().min_tokens_per_s == 20
    for bad in ({"device": ["RTX 9999"]}, {"n_gpus": ["2.5"]}, {"n_gpus": ["99"]}, {"bandwidth_gb_per_s": ["-1"]}):
        valid, notices = constraints_from_query(bad)
        assert valid == {} and len(notices) == 1, bad


def test_the_templates_theme_parameter_is_not_reported_as_unknown() -> None:
    valid, notices = constraints_from_query({"theme": ["dark"], "vram_gb": ["24"]})
    assert valid == {"vram_gb": 24.0}
    assert notices == []


def test_choices_in_the_url_are_case_insensitive() -> None:
    valid, notices = constraints_from_query({"backend": ["metal"], "priority": ["SPEED"], "kv_cache": ["Q8_0"]})
    assert notices == []
    assert valid == {"backend": "Metal", "priority": "speed", "kv_cache": "q8_0"}


def test_url_notices_print_bounds_as_plain_numbers() -> None:
    _, notices = constraints_from_query({"context": ["5"], "vram_gb": ["0"]})
    text = " ".join(notices)
    assert "1,048,576" in text and "1,024" in text
    assert "e+" not in text
