"""The quality model: cross-size tables, measured vs estimated costs, the fit's validation, and model comparison."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import data, quality
from dashboard.ingest import InputError
from dashboard.memory import catalog
from dashboard.quality import estimate_quality
from dashboard.recommend import compare_models


def test_cross_size_tables_have_pinned_schemas() -> None:
    assert data.load_table("quality_sizes_ppl").schema == {
        "table": pl.String(),
        "tokenizer_family": pl.String(),
        "model": pl.String(),
        "params_b": pl.Float64(),
        "quant": pl.String(),
        "imatrix": pl.String(),
        "file_size_gib": pl.Float64(),
        "perplexity": pl.Float64(),
        "perplexity_err": pl.Float64(),
        "dataset": pl.String(),
        "source": pl.String(),
    }
    assert data.load_table("quality_sizes_mmlu").schema == {
        "table": pl.String(),
        "model": pl.String(),
        "params_b": pl.Float64(),
        "quant": pl.String(),
        "format": pl.String(),
        "size_without_embeddings_gib": pl.Float64(),
        "mmlu_accuracy_pct": pl.Float64(),
        "questions": pl.String(),
        "source": pl.String(),
    }


def test_each_perplexity_table_is_one_tokenizer_family_with_its_own_f16_rows() -> None:
    sizes = data.load_table("quality_sizes_ppl")
    per_table = sizes.group_by("table").agg(pl.col("tokenizer_family").n_unique())
    assert (per_table["tokenizer_family"] == 1).all()
    for (model,), df in sizes.group_by("model"):
        assert "F16" in df["quant"].to_list(), f"{model} has no F16 baseline in its own table"


def test_published_cross_size_facts_come_out_of_the_api() -> None:
    # Qwen2-72B at q2_k beats Qwen2-7B at fp16 (one table: Qwen's cards)
    big, small = estimate_quality("Qwen2-72B", "Q2_K"), estimate_quality("Qwen2-7B", "F16")
    assert big.perplexity_table == small.perplexity_table
    assert big.perplexity == 5.91 and small.perplexity == 7.93
    assert big.perplexity < small.perplexity
    # Llama-3-70B IQ2_XXS above 8B F16 on MMLU, IQ1_S below 8B Q8_0 (matt-c1)
    assert estimate_quality("Llama-3-70B", "IQ2_XXS").mmlu_accuracy_pct == 72.31
    assert estimate_quality("Llama-3-8B", "F16").mmlu_accuracy_pct == 65.20
    assert (
        estimate_quality("Llama-3-70B", "IQ2_XXS").mmlu_accuracy_pct
        > estimate_quality("Llama-3-8B", "F16").mmlu_accuracy_pct
    )
    assert (
        estimate_quality("Llama-3-70B", "IQ1_S").mmlu_accuracy_pct
        < estimate_quality("Llama-3-8B", "Q8_0").mmlu_accuracy_pct
    )
    # ... and the same verdicts from the model comparison, which ranks sizes on the group's scale
    llama = compare_models(24, 8192, "f16", "CUDA", "quality").filter(pl.col("comparison_group") == "Llama 3")
    score = {(r["model"], r["quant"]): r["size_score"] for r in llama.iter_rows(named=True)}
    assert score[("Llama-3.1-70B", "IQ2_XXS")] < score[("Llama-3.1-8B", "F16")]
    assert score[("Llama-3.1-70B", "IQ1_S")] > score[("Llama-3.1-8B", "Q8_0")]
    assert llama.filter(pl.col("rank") == 1).select("model", "quant").row(0) == ("Llama-3.1-70B", "IQ2_XXS")


def test_measured_where_a_table_measured_it_estimated_elsewhere() -> None:
    measured = estimate_quality("Llama-3.1-70B", "IQ2_XXS")
    assert measured.basis.startswith("measured: on Llama-3-70B")
    assert "pull/6745" in measured.basis
    assert measured.ppl_increase_pct == pytest.approx(100 * (6.6705 / 2.8308 - 1))
    assert measured.low_pct <= measured.ppl_increase_pct <= measured.high_pct
    kld = estimate_quality("Llama-3.1-8B", "Q4_K_M")
    assert kld.mean_kld == 0.028152  # the scoreboard's imatrix row, the metric it was measured in
    qwen = estimate_quality("Qwen2.5-32B", "Q4_K_M")
    assert qwen.basis.startswith("estimated: ") and "not measured" in qwen.basis
    assert qwen.mean_kld is None and qwen.mmlu_accuracy_pct is None
    assert qwen.interval == quality.NEW_FAMILY_INTERVAL_LABEL
    llama405 = estimate_quality("Llama-3.1-405B", "Q2_K")
    assert llama405.basis.startswith("estimated: ") and "Llama 3 family" in llama405.basis
    by_count = estimate_quality(7e9, "Q4_K_M")
    assert by_count.basis.startswith("estimated: ") and by_count.params == 7e9
    assert estimate_quality(catalog()["Mistral-7B-v0.1"], "q4_k_m").quant == "Q4_K_M"


@pytest.mark.parametrize("bad", ["No-Such-Model", -1.0, float("nan"), 0.0, True])
def test_bad_models_raise_input_errors(bad: object) -> None:
    with pytest.raises(InputError):
        estimate_quality(bad, "Q4_K_M")  # type: ignore[arg-type]


def test_unknown_quant_raises_input_error() -> None:
    with pytest.raises(InputError, match="unknown quant type"):
        estimate_quality("Llama-3.1-8B", "Q9_Z")


@pytest.mark.parametrize("held_out", ["family", "model"])
def test_band_covers_held_out_points_at_the_claimed_rate(held_out: str) -> None:
    v = quality.validate(held_out)
    print(
        f"\nquality fit validation, {v.line()}; per group: " + ", ".join(f"{g} {c:.0%}" for g, c in v.per_group.items())
    )
    assert v.n_points >= 100
    assert v.coverage >= quality.CLAIMED_COVERAGE


TYPE_FAMILIES = sorted({f for q, f in quality.type_families().items() if q in quality.type_bits_per_weight()})


def _types_of(family: str) -> list[str]:
    bpw = quality.type_bits_per_weight()
    return sorted((q for q, f in quality.type_families().items() if f == family and q in bpw), key=bpw.get)


params_counts = st.floats(min_value=1e8, max_value=1e12, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(params=params_counts, family=st.sampled_from(TYPE_FAMILIES), data_=st.data())
def test_cost_never_falls_when_bits_fall_within_a_family_of_types(params: float, family: str, data_) -> None:
    types = _types_of(family)
    if len(types) < 2:
        return
    i = data_.draw(st.integers(0, len(types) - 2))
    fewer, more = types[i], types[i + 1]
    assert estimate_quality(params, fewer).ppl_increase_pct >= estimate_quality(params, more).ppl_increase_pct


@settings(max_examples=200, deadline=None)
@given(small=params_counts, big=params_counts, quant=st.sampled_from(sorted(quality.type_bits_per_weight())))
def test_cost_never_rises_with_parameter_count(small: float, big: float, quant: str) -> None:
    small, big = min(small, big), max(small, big)
    assert estimate_quality(big, quant).ppl_increase_pct <= estimate_quality(small, quant).ppl_increase_pct


@settings(max_examples=300, deadline=None)
@given(
    model=st.one_of(params_counts, st.sampled_from([*catalog(), "Qwen2-0.5B", "Llama-3-70B", "LLaMA-v1-13B"])),
    quant=st.sampled_from(sorted(quality.type_bits_per_weight())),
)
def test_band_always_contains_the_point(model: object, quant: str) -> None:
    q = estimate_quality(model, quant)  # type: ignore[arg-type]
    assert q.low_pct <= q.ppl_increase_pct <= q.high_pct
    assert q.basis.split(":")[0] in ("measured", "estimated")


def test_catalog_types_in_one_family_are_ordered_for_every_catalog_model() -> None:
    """Measured values mixed with estimates keep the order too (or a measurement says otherwise: listed)."""
    bpw = quality.type_bits_per_weight()
    candidates = [q for q in bpw if q not in quality.FLOAT_TYPES]
    breaks = []
    for name in catalog():
        for family in TYPE_FAMILIES:
            types = [q for q in _types_of(family) if q in candidates]
            costs = [estimate_quality(name, q).ppl_increase_pct for q in types]
            breaks += [
                (name, a, b) for a, b, ca, cb in zip(types, types[1:], costs, costs[1:], strict=False) if ca < cb
            ]
    assert breaks == []


def test_compare_models_rows_fit_and_are_ranked_within_groups() -> None:
    df = compare_models(24, 16384, "f16", "CUDA", "quality")
    assert df.height > 0
    assert set(df["fit"]) <= {"fits", "tight"}
    assert (df["total_gib"] <= 24e9 / 2**30).all()
    for (group,), g in df.group_by("comparison_group"):
        assert sorted(g["rank"].to_list()) == list(range(1, g.height + 1)), group
    for column in ("ppl_increase_pct", "low_pct", "high_pct", "basis", "rank", "total_gib", "comparison_basis"):
        assert column in df.columns
    alone = df.filter(pl.col("model") == "Mistral-7B-v0.1")
    assert alone["comparison_group"].unique().to_list() == ["Mistral-7B-v0.1"]
    assert "no table compares" in alone["comparison_basis"][0]


def test_compare_models_more_memory_never_removes_a_choice() -> None:
    small = compare_models(16, 8192, "f16", "CUDA", "size")
    big = compare_models(48, 8192, "f16", "CUDA", "size")
    pairs = set(big.select("model", "quant").iter_rows())
    assert set(small.select("model", "quant").iter_rows()) <= pairs
    assert len(pairs) > small.height


def test_compare_models_rejects_bad_constraints() -> None:
    with pytest.raises(ValueError):
        compare_models(-1, 8192, "f16", "CUDA", "quality")
    with pytest.raises(ValueError):
        compare_models(24, 8192, "f16", "CUDA", "fastest")


def test_the_qwen_facts_are_in_the_words_for_qwen25() -> None:
    """Qwen2.5's sizes were not measured: the summary gives the previous generation's measured facts."""
    from dashboard.recommend import cross_model_summary

    lines = cross_model_summary(24, 8192, "f16", "CUDA", "quality", "Qwen2.5-7B")
    assert lines[0].startswith("Within Qwen2.5 at 24 GB") and "estimated: expected perplexity" in lines[0]
    text = " ".join(lines)
    assert (
        "Qwen2-72B-Instruct beats Qwen2-7B-Instruct at F16 (7.93) at every measured type down to IQ1_M (6.75)" in text
    )
    assert "Qwen2-7B-Instruct beats Qwen2-1.5B-Instruct at F16 (10.43)" in text and "but not at Q2_K (10.58)" in text
    # and no cross-family claim for a family no table compares
    assert "No table compares" in cross_model_summary(24, 8192, "f16", "CUDA", "quality", "Gemma-2-9B")[0]
