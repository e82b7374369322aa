"""Every view's frame, computed by the domain and checked without rendering (``dashboard.frames``), and the
domain functions behind them (``efficiency``, ``backend_speed``, the quality band edges)."""

from __future__ import annotations

import html
import itertools
import math
from dataclasses import replace

import polars as pl
import pytest

from dashboard import data
from dashboard.efficiency import efficiency
from dashboard.frames import (
    BREAKDOWN_PARTS,
    BREAKDOWN_REFERENCE_QUANTS,
    SPECTRUM_COLUMNS,
    SPECTRUM_SPEED_COLUMN,
    band_limits,
    breakdown_bars_gb,
    memory_breakdown,
    quality_kept,
    quality_points,
    spectrum_cells,
    sweet_spot_cells,
    tree_layout,
)
from dashboard.ingest import parse_measurements
from dashboard.memory import estimate, gib_to_gb
from dashboard.models import REFERENCE_MODEL, catalog
from dashboard.quality import COST_FLOOR_PCT, cost_band, estimate_quality, model_quality_frame
from dashboard.quants import (
    FAST_BANDWIDTH_USE,
    QUALITY_BANDS,
    backend_speed,
    file_bits_per_weight,
    quality_band,
    quant_summary,
)
from dashboard.recommend import (
    FIT_ORDER,
    Constraints,
    cell_label,
    decision_tree,
    leaf_label,
    recommend,
    speed_table,
    sweet_spots,
)
from dashboard.views.summary import recommendation_markdown

USER_CSV = (
    "model,quant,file_size_gib,perplexity,mean_kld,generation_tokens_per_s\n"
    "Mine,F16,13.5,5.9,,\nMine,Q4_K_M,4.1,6.02,0.03,95\nMine,Q2_K,2.9,7.1,5.0,\n"
)


@pytest.fixture(scope="module")
def user() -> pl.DataFrame:
    return parse_measurements(USER_CSV)


@pytest.fixture(scope="module")
def quants() -> pl.DataFrame:
    return quant_summary()


@pytest.fixture(scope="module")
def costs() -> pl.DataFrame:
    """The expected quality cost of every type for the reference model (what the charts show by default)."""
    return model_quality_frame(REFERENCE_MODEL)


def scoreboard(quant: str, imatrix: str | None = None) -> dict:
    """One row of the shipped quality table (the plain row, or the named imatrix's)."""
    rows = data.load_table("llama3_8b_quality").filter(pl.col("quant") == quant)
    rows = rows.filter(pl.col("imatrix") == (imatrix or "none"))
    return rows.row(0, named=True)


# --- quality ---------------------------------------------------------------------------------------------------


def test_quality_points_place_each_measured_type_at_its_size_for_the_model(quants, user) -> None:
    spec_sizes = pl.DataFrame(
        {
            "quant": ["Q4_K_M", "Q8_0"],
            "weights_gib": [estimate("Qwen2.5-14B", q).weights_gib for q in ("Q4_K_M", "Q8_0")],
        }
    )
    points = quality_points(quants, spec_sizes, user, model_quality_frame("Qwen2.5-14B"))
    builtin = points.filter(pl.col("origin") == "built-in")
    assert builtin.height == quants.filter(pl.col("mean_kld").is_not_null()).height
    by_quant = {r["quant"]: r for r in builtin.iter_rows(named=True)}
    assert by_quant["Q4_K_M"]["weights_gib"] == pytest.approx(estimate("Qwen2.5-14B", "Q4_K_M").weights_gib)
    assert by_quant["IQ2_XS"]["weights_gib"] is None  # no size given for it: no point on the size axis
    # the size axis is in decimal GB, like every size on the page
    assert by_quant["Q4_K_M"]["weights_gb"] == pytest.approx(gib_to_gb(by_quant["Q4_K_M"]["weights_gib"]))
    assert by_quant["Q4_0"]["legacy_note"] == "legacy" and by_quant["Q4_K_M"]["legacy_note"] == ""
    assert "tools/perplexity/README.md" in by_quant["Q4_K_M"]["quality_source"]
    # the cost is the chosen model's own (Qwen2.5-14B), not the scoreboard's
    expected = estimate_quality("Qwen2.5-14B", "Q4_K_M")
    assert by_quant["Q4_K_M"]["ppl_increase_pct"] == expected.ppl_increase_pct
    assert by_quant["Q4_K_M"]["basis_kind"] == expected.basis.split(":")[0]
    mine = points.filter(pl.col("origin") == "yours")
    assert mine.select("quant", "weights_gib", "family", "quality_band").rows() == [
        ("F16", 13.5, "user", "yours"),
        ("Q4_K_M", 4.1, "user", "yours"),
        ("Q2_K", 2.9, "user", "yours"),
    ]


def test_quality_kept_is_f16_perplexity_over_the_types(quants, costs) -> None:
    kept = {r["quant"]: r for r in quality_kept(quants, costs).iter_rows(named=True)}
    assert kept["F16"]["quality_kept_pct"] == pytest.approx(100.0)
    for q in ("Q4_K_M", "Q8_0", "IQ2_XS"):
        increase = estimate_quality(REFERENCE_MODEL, q).ppl_increase_pct
        assert kept[q]["quality_kept_pct"] == pytest.approx(100 / (1 + increase / 100))
    # compression against the F16 file of the same model, both from the memory model
    ratio = estimate(REFERENCE_MODEL, "F16").bits_per_weight / estimate(REFERENCE_MODEL, "IQ2_XS").bits_per_weight
    assert kept["IQ2_XS"]["compression_vs_f16"] == pytest.approx(ratio)
    assert list(kept) == [q for q in quants.sort("file_bits_per_weight", descending=True)["quant"] if q in kept]


def test_band_edges_agree_across_the_three_quality_measures(quants) -> None:
    kld = band_limits("mean_kld")
    assert kld == {"good": dict(QUALITY_BANDS)["good"], "acceptable": dict(QUALITY_BANDS)["acceptable"]}
    f16 = scoreboard("F16")["perplexity"]
    measured = quants.filter(pl.col("mean_kld").is_not_null()).with_columns(
        (100 * (pl.col("perplexity") / f16 - 1)).alias("increase_pct")
    )
    for band in ("good", "acceptable"):
        # in perplexity, a band ends at the largest increase of a scoreboard type inside its KLD edge, below every
        # type above it: the same types are in the band whichever measure is read
        inside = measured.filter(pl.col("mean_kld") <= kld[band])["increase_pct"]
        above = measured.filter(pl.col("mean_kld") > kld[band])["increase_pct"]
        edge_pct = inside.max()
        assert edge_pct < above.min()
        assert band_limits("delta_perplexity")[band] == pytest.approx(edge_pct / 100 * f16)
        assert band_limits("quality_kept_pct")[band] == pytest.approx(100 / (1 + edge_pct / 100))
    with pytest.raises(ValueError, match="no quality bands"):
        band_limits("tokens_per_s")


# --- spectrum --------------------------------------------------------------------------------------------------


def test_spectrum_scores_each_column_from_worst_to_best(quants, user, costs) -> None:
    cells = spectrum_cells(quants, pl.DataFrame(schema=user.schema), costs)
    assert cells.height == quants.height * len(SPECTRUM_COLUMNS)
    scores = cells.filter(pl.col("score").is_not_nan())["score"]
    assert scores.min() >= 0 and scores.max() <= 1
    size = {r["quant"]: r["score"] for r in cells.filter(pl.col("column") == "Size").iter_rows(named=True)}
    bpw = file_bits_per_weight()
    assert size[min(bpw, key=bpw.get)] == 1.0 and size[max(bpw, key=bpw.get)] == 0.0
    quality = cells.filter((pl.col("column") == "Quality") & pl.col("score").is_not_nan())
    cost = dict(costs.select("quant", "ppl_increase_pct").iter_rows())
    cheapest = {q for q in quality["quant"] if cost[q] == min(cost[x] for x in quality["quant"])}
    assert set(quality.filter(pl.col("score") == 1.0)["quant"]) == cheapest
    dearest = max(quality["quant"], key=cost.get)
    assert quality.filter(pl.col("quant") == dearest)["score"][0] == 0.0
    # every quality score is the cost on the log scale (F16's 0 at the fit's floor), best 1, worst 0
    logs = {q: math.log10(cost[q] + COST_FLOOR_PCT) for q in quality["quant"]}
    lo, hi = min(logs.values()), max(logs.values())
    for q, score in quality.select("quant", "score").iter_rows():
        assert score == pytest.approx(1 - (logs[q] - lo) / (hi - lo)), q
    q4 = quality.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["label"] == f"{cost_band(cost['Q4_K_M'])}\n+{cost['Q4_K_M']:.1f}%"  # the band's word first
    # a backend cell says the verdict of backend_speed, scored by its bandwidth use
    speed = backend_speed()
    metal = cells.filter((pl.col("column") == "Metal") & (pl.col("quant") == "IQ4_XS")).row(0, named=True)
    expected = speed.filter((pl.col("quant") == "IQ4_XS") & (pl.col("backend") == "Metal")).row(0, named=True)
    assert (metal["label"], metal["score"]) == ("slow", pytest.approx(expected["bandwidth_use"]))
    notes = cells.filter((pl.col("column") == "Notes") & (pl.col("quant") == "IQ4_XS"))["label"][0]
    assert notes.startswith("imatrix advised\nslow on Metal")  # one note a line: the column is narrow
    assert cells.filter(pl.col("quant") == "Q4_0")["row"][0] == "Q4_0 †"  # legacy mark


def test_spectrum_scores_user_quality_on_the_built_in_scale(quants, user, costs) -> None:
    cells = spectrum_cells(quants, user, costs)
    mine = cells.filter(pl.col("family") == "user")
    assert mine.height == user.height * len(SPECTRUM_COLUMNS)
    quality = dict(mine.filter(pl.col("column") == "Quality").select("row", "score").iter_rows())
    assert math.isnan(quality["F16 · Mine (yours)"])  # no KLD measured
    assert quality["Q2_K · Mine (yours)"] == 0.0  # worse than every built-in type: clipped to the worst
    klds = quants["mean_kld"].drop_nulls()
    expected = 1 - (math.log10(0.03) - math.log10(klds.min())) / (math.log10(klds.max()) - math.log10(klds.min()))
    assert quality["Q4_K_M · Mine (yours)"] == pytest.approx(expected)


def test_spectrum_speed_is_the_device_estimate_or_else_the_measured_8b_speed(quants, user, costs) -> None:
    no_user = pl.DataFrame(schema=user.schema)
    measured = spectrum_cells(quants, no_user, costs).filter(pl.col("column") == SPECTRUM_SPEED_COLUMN)
    tg = dict(quants.select("quant", "generation_tokens_per_s").iter_rows())
    q4 = measured.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["label"] == f"{tg['Q4_K_M']:.0f} (8B)" and q4["detail"].startswith("pick a device")
    c = Constraints("Llama-3.1-8B", 24, 8192, backend="CUDA", bandwidth_gb_per_s=1008.0)
    speeds = speed_table(c)
    estimated = spectrum_cells(quants, no_user, costs, speeds, "Llama-3.1-8B on RTX 4090", "CUDA").filter(
        pl.col("column") == SPECTRUM_SPEED_COLUMN
    )
    est = dict(speeds.select("quant", "generation_tokens_per_s").iter_rows())
    q4 = estimated.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["label"] == f"~{est['Q4_K_M']:.0f}"
    assert q4["detail"].startswith("estimated for Llama-3.1-8B on RTX 4090: ")
    # scored on the estimate: the fastest estimated type scores best
    fastest = max((q for q in est if est[q] is not None and q in set(estimated["quant"])), key=est.get)
    assert estimated.filter(pl.col("quant") == fastest)["score"][0] == 1.0


def test_spectrum_user_rows_speak_gb_and_bands(quants, user, costs) -> None:
    mine = spectrum_cells(quants, user, costs).filter(pl.col("family") == "user")
    size = mine.filter((pl.col("column") == "Size") & (pl.col("quant") == "Q4_K_M")).row(0, named=True)
    assert size["label"] == f"{gib_to_gb(4.1):.2f} GB" and "4.10 GiB as you gave it" in size["detail"]
    quality = mine.filter((pl.col("column") == "Quality") & (pl.col("quant") == "Q4_K_M")).row(0, named=True)
    assert quality["label"] == quality_band(0.03)


# --- efficiency ------------------------------------------------------------------------------------------------


def test_efficiency_is_perplexity_added_per_gb_saved() -> None:
    table = data.load_table("quality_by_model")
    eff = efficiency()
    row = eff.row(0, named=True)
    same = table.filter((pl.col("table") == row["table"]) & (pl.col("model") == row["model"]))
    f16 = same.filter(pl.col("quant") == "F16").row(0, named=True)
    quant = same.filter(pl.col("quant") == row["quant"]).row(0, named=True)
    added = 100 * (quant["perplexity"] / f16["perplexity"] - 1)
    saved = gib_to_gb(f16["file_size_gib"] - quant["file_size_gib"])
    assert row["perplexity_added_pct"] == pytest.approx(added)
    assert row["gb_saved"] == pytest.approx(saved)
    assert row["pct_per_gb_saved"] == pytest.approx(added / saved)
    assert "F16" not in set(eff["quant"])
    # every published row with a perplexity, a size and an F16 baseline in its table is there
    usable = table.filter(pl.col("perplexity").is_not_null() & pl.col("file_size_gib").is_not_null())
    baselines = usable.filter(pl.col("quant") == "F16").select("table", "model")
    expected = usable.filter(pl.col("quant") != "F16").join(baselines, on=["table", "model"]).height
    assert eff.height == expected


def test_user_efficiency_uses_their_own_f16_row(user) -> None:
    mine = efficiency(user).filter(pl.col("table") == "yours")
    assert mine["model"].to_list() == ["Mine (yours)", "Mine (yours)"]
    q4 = mine.filter(pl.col("quant") == "Q4_K_M").row(0, named=True)
    assert q4["perplexity_added_pct"] == pytest.approx(100 * (6.02 / 5.9 - 1))
    assert q4["gb_saved"] == pytest.approx(gib_to_gb(13.5 - 4.1))
    assert efficiency(user.filter(pl.col("quant") != "F16")).filter(pl.col("table") == "yours").height == 0


# --- speed -----------------------------------------------------------------------------------------------------


def test_backend_speed_verdicts_follow_their_rules() -> None:
    """``slow`` when a bigger type generated faster in some run on that backend; else ``fast`` from the
    bandwidth-use threshold. Checked against the raw runs with plain Python."""
    bpw = file_bits_per_weight()
    runs: dict[int, list[dict]] = {}
    for r in data.load_table("speed").filter(pl.col("test") == "generation").iter_rows(named=True):
        if r["quant"] in bpw:
            runs.setdefault(r["run_id"], []).append(r)
    beaten = set()
    for rows in runs.values():
        for r in rows:
            if any(bpw[o["quant"]] > bpw[r["quant"]] and o["tokens_per_s"] > r["tokens_per_s"] for o in rows):
                beaten.add((r["quant"], r["backend"]))
    speed = backend_speed()
    assert speed.height > 20
    for r in speed.iter_rows(named=True):
        assert 0 < r["bandwidth_use"] <= 1
        if (r["quant"], r["backend"]) in beaten:
            assert r["verdict"] == "slow", r
        else:
            assert r["verdict"] == ("fast" if r["bandwidth_use"] >= FAST_BANDWIDTH_USE else "moderate"), r
    verdicts = {(r["quant"], r["backend"]): r["verdict"] for r in speed.iter_rows(named=True)}
    assert verdicts[("IQ4_XS", "Metal")] == "slow" and verdicts[("Q4_K_S", "CUDA")] == "moderate"


# --- fit -------------------------------------------------------------------------------------------------------


def test_sweet_spot_cells_label_rank_and_convert_the_grid() -> None:
    grid = sweet_spots(models=["Llama-3.1-8B", "Llama-3.1-405B"], vram_sizes_gb=(8, 80))
    cells = sweet_spot_cells(grid)
    for r in cells.iter_rows(named=True):
        assert r["vram"] == f"{r['vram_gb']:g} GB"
        assert r["fit_code"] == FIT_ORDER.index(r["fit"])
        assert r["label"] == cell_label(r["quant"], r["fit"])  # the recommender's own text, "partial" included
        if not math.isnan(r["total_gib"]):
            assert r["total_gb"] == pytest.approx(r["total_gib"] * 2**30 / 1e9)
    assert "—" in set(cells["label"])  # 405B on 8 GB: nothing


def test_memory_breakdown_lists_the_choice_runner_ups_and_landmarks() -> None:
    c = Constraints("Qwen2.5-14B", 16, 16384, "q8_0")
    r = recommend(c)
    breakdown = memory_breakdown(c, r)
    picks = [r.best.quant, *(o.quant for o in r.runner_ups)]
    order = list(dict.fromkeys(breakdown["quant"]))
    assert order == [*picks, *(q for q in BREAKDOWN_REFERENCE_QUANTS if q not in picks)]
    for q in order:
        parts = breakdown.filter(pl.col("quant") == q)
        assert parts["part"].to_list() == list(BREAKDOWN_PARTS)
        assert parts["gib"].sum() == pytest.approx(estimate("Qwen2.5-14B", q, 16384, "q8_0").total_gib)
    bars = breakdown_bars_gb(breakdown, pick=r.best.quant)
    # smallest total first, the recommendation marked on the axis
    assert sorted(bars["quant"]) == sorted(order)
    assert bars["total"] == sorted(bars["total"])
    assert bars["label"] == [f"{q} (pick)" if q == r.best.quant else q for q in bars["quant"]]
    i = bars["quant"].index(r.best.quant)
    assert bars["total"][i] == pytest.approx(gib_to_gb(r.best.total_gib))
    assert bars["weights"][i] == pytest.approx(r.best.weights_gib * 1.073741824)


# --- decision tree ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "constraints",
    [
        Constraints("Llama-3.1-8B", 24, 8192, priority="quality"),
        Constraints("Llama-3.1-70B", 24, 8192, priority="size"),
        Constraints("Llama-3.1-405B", 8, 131072, priority="speed"),
    ],
    ids=["quality", "size", "nothing-fits"],
)
def test_tree_layout_highlights_exactly_the_recommenders_path(constraints: Constraints) -> None:
    r = recommend(constraints)
    nodes, edges = tree_layout(r)
    tree = decision_tree()
    assert set(nodes["node"]) == {n for n, _, _ in tree} | {"leaf"}
    assert set(nodes.filter(pl.col("active"))["node"]) == {*r.path, "leaf"}
    leaf = nodes.filter(pl.col("node") == "leaf").row(0, named=True)
    assert leaf["label"] == f"→ {leaf_label(r)}"
    assert leaf["label"].startswith(f"→ {r.best.quant} · +" if r.best else "→ nothing fits")
    assert leaf["x"] == len(r.path)  # one column per step of the path
    # the active edges are the steps of the path
    position = {n: (x, y) for n, x, y in nodes.select("node", "x", "y").iter_rows()}
    active = {(e["x0"], e["y0"], e["x1"], e["y1"]) for e in edges.filter(pl.col("active")).iter_rows(named=True)}
    steps = [*r.path, "leaf"]
    assert active == {(*position[a], *position[b]) for a, b in itertools.pairwise(steps)}
    assert edges.height == len(tree)  # one edge per node but the root, plus the leaf's
    ends = nodes.filter(~pl.col("inner"))
    assert ends["y"].n_unique() == ends.height  # every end node on its own row


# --- summary ---------------------------------------------------------------------------------------------------


def test_recommendation_markdown_states_the_choice_runner_ups_and_escapes() -> None:
    r = recommend(Constraints("Llama-3.1-70B", 24, 8192))
    text = recommendation_markdown(r)
    assert text.startswith(f"## {r.summary()}")
    assert f"**Fit:** {r.best.fit} · **quality band:** {r.best.quality_band}" in text
    for o in r.runner_ups:
        assert f"{o.quant} ({gib_to_gb(o.total_gib):.1f} GB, +{o.ppl_increase_pct:.1f}% perplexity)" in text
    assert all(f"- {html.escape(reason)}" in text for reason in r.reasons)
    nothing = recommend(Constraints("Llama-3.1-405B", 8, 131072))
    text = recommendation_markdown(nothing)
    assert "**What would help:**" in text and all(f"- {html.escape(s)}" in text for s in nothing.suggestions)
    hostile = replace(catalog()["Llama-3.1-8B"], name="<img src=x onerror=alert(1)>")
    text = recommendation_markdown(recommend(Constraints(hostile, 24, 8192)))
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img" not in text


def test_recommendation_markdown_gives_the_cost_range_in_its_own_word() -> None:
    """ "band" is the quality band's word; the cost's range is a range, and the reference precision has none."""
    estimated = recommend(Constraints("Llama-3.1-70B", 24, 8192)).best
    assert estimated.cost_high_pct > estimated.cost_low_pct
    text = recommendation_markdown(recommend(Constraints("Llama-3.1-70B", 24, 8192)))
    fit_line = next(line for line in text.splitlines() if line.startswith("**Fit:**"))
    assert f", range +{estimated.cost_low_pct:.1f}% to +{estimated.cost_high_pct:.1f}%)" in fit_line
    assert fit_line.count("band") == 1
    reference = recommend(Constraints("Llama-3.1-8B", 80, 8192))
    assert reference.best.quant in ("F16", "BF16") and reference.best.cost_high_pct == reference.best.cost_low_pct
    fit_line = next(line for line in recommendation_markdown(reference).splitlines() if line.startswith("**Fit:**"))
    assert fit_line.endswith(f"perplexity +{reference.best.ppl_increase_pct:.1f}%)") and "range" not in fit_line
