"""The recommender: fit rules, priorities, monotonic answers, and the grid and tree agreeing with it."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.memory import estimate
from dashboard.recommend import (
    CONTEXT_SIZES_TOKENS,
    IN_BUDGET,
    PRIORITIES,
    Constraints,
    cell_label,
    cost_limit_pct,
    decision_tree,
    fit_status,
    recommend,
    sweet_spots,
)

MODELS = ["Llama-3.2-1B", "Llama-3.1-8B", "Qwen2.5-14B", "Gemma-2-27B", "Llama-3.1-70B", "Mixtral-8x7B"]


def test_fit_status_thresholds() -> None:
    assert fit_status(10.0, 22.35) == "fits"
    assert fit_status(22.0, 22.35) == "tight"  # within the 5% / 0.5 GiB headroom
    assert fit_status(30.0, 22.35) == "partial offload"
    assert fit_status(60.0, 22.35) == "no"


def test_70b_on_24gb_at_8k_picks_a_2_bit_type_and_says_what_q3_would_need() -> None:
    r = recommend(Constraints("Llama-3.1-70B", 24, 8192, "f16", "CUDA", "quality"))
    assert r.best is not None
    assert r.best.quant.startswith(("IQ2", "Q2"))
    assert r.best.total_gib <= Constraints().budget_gib
    assert "Llama-3.1-70B on 24 GB at 8K context: " + r.best.quant in r.summary()
    assert any("would need" in reason for reason in r.reasons)


def test_8b_on_24gb_gets_near_lossless_quality() -> None:
    r = recommend(Constraints("Llama-3.1-8B", 24, 8192, "f16", "CUDA", "quality"))
    assert r.best.quant in ("F16", "Q8_0")
    assert r.best.quality_band == "near-lossless"
    assert r.best.fit == "fits"
    assert r.path == ("root", "priority:quality", "quality/near-lossless")


def test_size_priority_picks_the_smallest_good_type() -> None:
    r = recommend(Constraints("Llama-3.1-8B", 24, 8192, "f16", "CUDA", "size"))
    good = [o for o in r.options if o.fit in ("fits", "tight") and o.ppl_increase_pct <= cost_limit_pct("size")]
    assert r.best.total_gib == min(o.total_gib for o in good)
    assert r.path[-1] == "size/gated"


def test_speed_priority_on_metal_avoids_types_measured_slow_there() -> None:
    r = recommend(Constraints("Llama-3.1-8B", 24, 8192, "f16", "Metal", "speed"))
    assert r.best.speed_verdict != "slow"
    cuda = recommend(Constraints("Llama-3.1-8B", 24, 8192, "f16", "CUDA", "speed"))
    gated = [o for o in cuda.options if o.fit in IN_BUDGET and o.ppl_increase_pct <= cost_limit_pct("speed")]
    assert cuda.best.relative_speed == max(o.relative_speed for o in gated)
    # the measured per-backend kernel speed moves IQ4_XS: behind Q4_0 on Metal (measured slow), ahead on CUDA
    speed = {(c, o.quant): o.relative_speed for c, rec in (("Metal", r), ("CUDA", cuda)) for o in rec.options}
    assert speed[("Metal", "IQ4_XS")] < speed[("Metal", "Q4_0")]
    assert speed[("CUDA", "IQ4_XS")] / speed[("CUDA", "Q4_0")] > speed[("Metal", "IQ4_XS")] / speed[("Metal", "Q4_0")]


def test_nothing_fits_is_an_answer_with_suggestions() -> None:
    r = recommend(Constraints("Llama-3.1-405B", 8, 131072, "f16", "CUDA", "quality"))
    assert r.best is None
    assert r.fit == "no"
    assert r.path[-1] == "quality/none"
    assert r.suggestions
    assert "nothing fits" in r.summary()


def test_less_context_and_quantised_cache_are_suggested_when_they_help() -> None:
    c = Constraints("Llama-3.1-8B", 14, 131072, "f16", "CUDA", "quality")
    r = recommend(c)
    assert r.best is None
    smallest = min(r.options, key=lambda o: o.total_gib).quant
    # 32K is the largest catalog context at which something fits; at the full context only a q8_0 cache helps
    at_32k = estimate("Llama-3.1-8B", smallest, 32768, "f16").total_gib
    assert fit_status(at_32k, c.budget_gib) in IN_BUDGET
    assert fit_status(estimate("Llama-3.1-8B", smallest, 131072, "f16").total_gib, c.budget_gib) not in IN_BUDGET
    assert fit_status(estimate("Llama-3.1-8B", smallest, 131072, "q8_0").total_gib, c.budget_gib) in IN_BUDGET
    assert r.suggestions[0].startswith("Reduce the context to 32K: ")
    assert r.suggestions[1].startswith("Quantise the KV cache to q8_0 (needs flash attention): ")
    # where a quantised cache does not help enough, it is not suggested
    small = recommend(Constraints("Llama-3.1-8B", 6, 131072, "f16", "CUDA", "quality"))
    assert not any("Quantise the KV cache" in s for s in small.suggestions)
    assert small.suggestions[0].startswith("Reduce the context to 16K")


@settings(max_examples=40, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    vrams=st.lists(st.floats(2, 200), min_size=2, max_size=2),
    context=st.sampled_from([2048, 8192, 32768]),
    kv=st.sampled_from(["f16", "q8_0"]),
    backend=st.sampled_from(["CUDA", "Metal", "CPU"]),
    priority=st.sampled_from(PRIORITIES),
)
def test_more_vram_never_yields_a_worse_recommendation(model, vrams, context, kv, backend, priority) -> None:
    low, high = sorted(vrams)
    a = recommend(Constraints(model, low, context, kv, backend, priority))
    b = recommend(Constraints(model, high, context, kv, backend, priority))
    if a.best is None:
        return
    assert b.best is not None, "a budget that fits something at low VRAM fits it at high VRAM"
    limit = cost_limit_pct(priority)
    if limit is None or a.best.ppl_increase_pct > limit:
        # quality rule (or its fallback): the expected cost for this model can only fall
        assert b.best.ppl_increase_pct <= a.best.ppl_increase_pct
    elif priority == "size":
        assert b.best.quant == a.best.quant or b.best.total_gib <= a.best.total_gib
    else:
        assert b.best.ppl_increase_pct <= limit
        assert b.best.relative_speed >= a.best.relative_speed - 1e-12


def test_sweet_spot_cells_equal_the_recommender() -> None:
    grid = sweet_spots(models=["Llama-3.1-8B", "Llama-3.1-70B"], context=8192, kv_cache="f16")
    for row in grid.iter_rows(named=True):
        r = recommend(Constraints(row["model"], row["vram_gb"], 8192, "f16", "CUDA", "quality"))
        if r.best:
            assert (row["quant"], row["fit"]) == (r.best.quant, r.best.fit)
        else:
            assert row["fit"] in ("partial offload", "no")


def test_grid_fits_improve_with_vram() -> None:
    # once something runs entirely in memory it keeps doing so; "fits" may be followed by "tight" because a
    # better type that fits only inside the headroom outranks a worse roomy one (quality never drops)
    grid = sweet_spots(models=["Llama-3.1-70B"], context=8192)
    order = ["no", "partial offload", "in memory", "in memory"]
    ranks = [order.index(f) for f in grid.sort("vram_gb")["fit"].replace({"tight": "in memory", "fits": "in memory"})]
    assert ranks == sorted(ranks)


def test_every_recommendation_path_is_a_path_in_the_tree() -> None:
    nodes = {node: parent for node, parent, _ in decision_tree()}
    for priority in PRIORITIES:
        for vram in (4, 12, 24, 80):
            r = recommend(Constraints("Llama-3.1-70B", vram, 8192, "f16", "CUDA", priority))
            for parent, child in zip(r.path, r.path[1:], strict=False):
                assert nodes[child] == parent


@pytest.mark.parametrize("priority", PRIORITIES)
def test_recommended_memory_is_the_memory_model(priority: str) -> None:
    r = recommend(Constraints("Qwen2.5-14B", 16, 16384, "q8_0", "CUDA", priority))
    e = estimate("Qwen2.5-14B", r.best.quant, 16384, "q8_0")
    assert r.best.total_gib == pytest.approx(e.total_gib)


def test_the_quality_cost_is_the_chosen_models_own_estimate() -> None:
    """A 70B is judged by its own (measured or estimated) cost, not by Llama-3-8B's numbers."""
    from dashboard.quality import estimate_quality

    for model in ("Llama-3.1-70B", "Qwen2.5-14B", "Gemma-2-27B"):
        r = recommend(Constraints(model, 24, 8192, "f16", "CUDA", "quality"))
        expected = estimate_quality(model, r.best.quant)
        assert r.best.ppl_increase_pct == expected.ppl_increase_pct
        assert r.best.quality_basis == expected.basis
        assert any(f"Quality cost for {model}: perplexity +{expected.ppl_increase_pct:.1f}%" in x for x in r.reasons)
    eight = recommend(Constraints("Llama-3.1-8B", 8, 8192, "f16", "CUDA", "quality"))
    seventy = recommend(Constraints("Llama-3.1-70B", 24, 8192, "f16", "CUDA", "quality"))
    assert eight.best.mean_kld is not None  # measured on Llama-3-8B, shown where it was measured
    assert seventy.best.mean_kld is None  # never borrowed from the 8B


@pytest.mark.parametrize("priority", PRIORITIES)
@pytest.mark.parametrize("kv", ["f16", "q8_0"])
def test_sweet_spots_never_get_worse_with_more_memory_unless_leaving_partial_offload(priority: str, kv: str) -> None:
    """The whole grid (every catalog model, every memory size, every context): a bigger budget never picks a
    lower-quality type, except where the smaller budget's pick only ran with partial offload, and then that
    cell says so in its text."""
    for context in CONTEXT_SIZES_TOKENS:
        grid = sweet_spots(context=context, kv_cache=kv, priority=priority)
        for (model,), cells in grid.group_by("model", maintain_order=True):
            cells = cells.sort("vram_gb").to_dicts()
            for low, high in pairwise(cells):
                if not low["quant"] or not high["quant"]:
                    assert not low["quant"], f"{model}: {low['vram_gb']} GB has a pick, {high['vram_gb']} GB none"
                    continue
                if high["ppl_increase_pct"] > low["ppl_increase_pct"]:
                    where = f"{model} at {context} tokens: {low['vram_gb']:g} GB {low['quant']} ({low['fit']})"
                    assert low["fit"] == "partial offload", f"{where} -> {high['vram_gb']:g} GB {high['quant']}"
                    assert high["fit"] in ("fits", "tight"), where
                    assert "partial" in low["label"], where


def test_a_tight_fit_is_not_ranked_below_a_worse_roomy_one() -> None:
    # 27 GB: IQ1_M fits inside the headroom only; 27.5 GB: IQ1_S (worse) leaves the headroom. Ranking "fits"
    # first made the bigger budget pick IQ1_S.
    a = recommend(Constraints("Qwen2.5-72B", 27.0, 8192, "f16", "CUDA", "quality"))
    b = recommend(Constraints("Qwen2.5-72B", 27.5, 8192, "f16", "CUDA", "quality"))
    assert b.best.ppl_increase_pct <= a.best.ppl_increase_pct


def test_partial_offload_cells_say_so() -> None:
    assert cell_label("IQ3_XXS", "partial offload") == "IQ3_XXS\npartial"
    assert cell_label("Q4_K_M", "fits") == "Q4_K_M"
    assert cell_label("", "no") == "—"


def test_reduce_context_names_the_best_type_that_would_then_fit() -> None:
    c = Constraints("Llama-3.1-8B", 6, 131072, "f16", "CUDA", "quality")
    r = recommend(c)
    hint = next(s for s in r.suggestions if s.startswith("Reduce the context"))
    context = {"32K": 32768, "16K": 16384, "8K": 8192, "4K": 4096, "2K": 2048}[hint.split(" to ")[1].split(":")[0]]
    best_then = recommend(Constraints("Llama-3.1-8B", 6, context, "f16", "CUDA", "quality")).best
    assert f": {best_then.quant} then fits" in hint
    assert best_then.quant != "IQ1_S"


def test_context_beyond_the_trained_maximum_is_warned_about() -> None:
    r = recommend(Constraints("Gemma-2-9B", 24, 32768, "f16", "CUDA", "quality"))
    assert any("beyond Gemma-2-9B's trained maximum of 8K (8,192 tokens)" in w for w in r.warnings)
    assert recommend(Constraints("Gemma-2-9B", 24, 8192, "f16", "CUDA", "quality")).warnings == ()
    nothing = recommend(Constraints("Phi-3-mini-4k-instruct", 1, 131072, "f16", "CUDA", "quality"))
    assert nothing.best is None and nothing.warnings


def test_the_recommendation_speaks_decimal_gb_only() -> None:
    r = recommend(Constraints("Llama-3.1-8B", 24, 8192, "f16", "CUDA", "quality"))
    text = " ".join((r.summary(), *r.reasons, *r.suggestions))
    assert "GiB" not in text
    assert f"free of {24:g} GB" in text
