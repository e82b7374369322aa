"""One row per quant type: what it is, what it costs in quality and what it does to speed.

Pure polars, no Panel. Everything here is derived from the sourced tables by formulas stated in the
docstrings; nothing is typed in.

Quality bands (:data:`QUALITY_BANDS`) are this dashboard's own reading thresholds on mean KLD, not
measurements: near-lossless <= 0.01, good <= 0.05, acceptable <= 0.15, degraded above.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from dashboard import data
from dashboard.memory import estimate, quant_types
from dashboard.models import REFERENCE_MODEL

BACKENDS = ("CUDA", "Metal", "CPU")
QUALITY_BANDS: tuple[tuple[str, float], ...] = (
    ("near-lossless", 0.01),
    ("good", 0.05),
    ("acceptable", 0.15),
    ("degraded", float("inf")),
)
# The model every quality figure (KLD, ΔPPL: llama.cpp's scoreboard, data/llama3_8b_quality.csv) was measured on.
QUALITY_REFERENCE_MODEL = "Llama-3-8B"
PREFERRED_IMATRIX = "WT 10m"  # the importance matrix most rows of the Llama-3-8B scoreboard use
# "fast": at least 85% of the best bandwidth use measured in the same run. Like QUALITY_BANDS, this is the
# dashboard's own reading threshold (within 15% of the best counts as keeping up), not a measurement.
FAST_BANDWIDTH_USE = 0.85


def quality_band(mean_kld: float | None) -> str:
    """The band a mean KLD falls in ("no data" when unmeasured)."""
    if mean_kld is None:
        return "no data"
    for name, upper in QUALITY_BANDS:
        if mean_kld <= upper:
            return name
    return "degraded"


@cache
def file_bits_per_weight() -> dict[str, float]:
    """Whole-file bits per weight of each quant type on Llama-3.1-8B, from the memory model.

    The model reproduces llama.cpp's published figures (``llama31_8b_files``) and also covers the types
    that table leaves out (Q4_0, Q5_1...).
    """
    return {q: estimate(REFERENCE_MODEL, q).bits_per_weight for q in quant_types()}


def speed_evidence() -> pl.DataFrame:
    """Generation-speed evidence per (run, quant): tokens/s and bandwidth use within the run.

    Token generation streams every weight once per token, so a kernel that keeps up with memory gives
    ``tokens/s x bits per weight`` roughly constant across types. ``bandwidth_use`` is that product divided
    by the best in the same run (1.0 = as bandwidth-efficient as the best type measured alongside).
    Runs with a single quant type say nothing about relative speed and are dropped.
    """
    speed = data.load_table("speed").filter(pl.col("test") == "generation")
    bpw = file_bits_per_weight()
    speed = speed.filter(pl.col("quant").is_in(list(bpw)))
    speed = speed.with_columns(
        pl.col("quant").replace_strict(bpw, return_dtype=pl.Float64).alias("file_bits_per_weight")
    )
    speed = speed.with_columns((pl.col("tokens_per_s") * pl.col("file_bits_per_weight")).alias("bits_per_s"))
    speed = speed.filter(pl.col("quant").n_unique().over("run_id") > 1)
    speed = speed.with_columns(
        (pl.col("bits_per_s") / pl.col("bits_per_s").max().over("run_id")).alias("bandwidth_use"),
    )
    # "Slow" means slower than a bigger type in the same run: the smaller file does not pay off in speed.
    bigger_faster = (
        speed.join(speed, on="run_id", suffix="_other")
        .filter(
            (pl.col("file_bits_per_weight_other") > pl.col("file_bits_per_weight"))
            & (pl.col("tokens_per_s_other") > pl.col("tokens_per_s"))
        )
        .group_by("run_id", "quant")
        .agg(
            pl.format("{} {} t/s", pl.col("quant_other"), pl.col("tokens_per_s_other"))
            .str.join(", ")
            .alias("beaten_by")
        )
    )
    speed = speed.join(bigger_faster, on=["run_id", "quant"], how="left")
    return speed.select(
        "run_id", "model", "hardware", "backend", "quant", "tokens_per_s", "bandwidth_use", "beaten_by", "source"
    )


def backend_speed() -> pl.DataFrame:
    """Per (quant, backend): mean bandwidth use over runs, a verdict and the evidence text.

    ``slow``: in some run on that backend a bigger type generated faster (the smaller file does not pay off);
    otherwise ``fast`` when the bandwidth use is at least :data:`FAST_BANDWIDTH_USE`, else ``moderate``.
    """
    ev = speed_evidence().filter(pl.col("backend").is_in(BACKENDS))
    summary = ev.group_by("quant", "backend").agg(
        pl.col("bandwidth_use").mean().alias("bandwidth_use"),
        pl.len().alias("n_runs"),
        pl.col("beaten_by").is_not_null().any().alias("slower_than_bigger"),
        pl.format(
            "{} t/s on {}{} ({})",
            pl.col("tokens_per_s").round(1),
            pl.col("hardware"),
            pl.when(pl.col("beaten_by").is_not_null())
            .then(pl.format(", slower than {}", pl.col("beaten_by")))
            .otherwise(pl.lit("")),
            pl.col("source"),
        )
        .str.join("; ")
        .alias("evidence"),
    )
    return summary.with_columns(
        pl.when(pl.col("slower_than_bigger"))
        .then(pl.lit("slow"))
        .when(pl.col("bandwidth_use") >= FAST_BANDWIDTH_USE)
        .then(pl.lit("fast"))
        .otherwise(pl.lit("moderate"))
        .alias("verdict")
    ).sort("quant", "backend")


@cache
def quant_summary() -> pl.DataFrame:
    """The per-quant table every view and the recommender read.

    Columns: quant, family, base_ggml_type, nominal_bits_per_weight, file_bits_per_weight (Llama-3.1-8B,
    computed), file_size_gib_llama31_8b (published), generation/prompt tokens/s (Llama-3.1-8B, backend
    not stated), mean KLD / ΔPPL / perplexity on Llama-3-8B without and with imatrix, the ones used for
    ranking (imatrix row when measured, else plain), the KLD band, ``quality_kept_pct`` (F16 perplexity /
    perplexity), ``compression_vs_f16`` (F16 file bits per weight / the type's), legacy flag, and per-backend
    bandwidth use/verdict.
    """
    qt = data.load_table("quant_types").filter(pl.col("quant").is_in(quant_types()))
    bpw = file_bits_per_weight()
    qt = qt.with_columns(
        pl.col("quant").replace_strict(bpw, return_dtype=pl.Float64).alias("file_bits_per_weight"),
        (pl.col("family") == "legacy").alias("legacy"),
    )
    files = data.load_table("llama31_8b_files").select(
        "quant",
        pl.col("file_size_gib").alias("file_size_gib_llama31_8b"),
        "generation_tokens_per_s",
        "prompt_tokens_per_s",
    )
    quality = data.load_table("llama3_8b_quality")
    plain = quality.filter(pl.col("imatrix") == "none").select(
        "quant",
        pl.col("mean_kld").alias("mean_kld_plain"),
        pl.col("delta_perplexity").alias("delta_perplexity_plain"),
        pl.col("perplexity").alias("perplexity_plain"),
    )
    imatrix = (
        quality.filter(pl.col("imatrix") != "none")
        .with_columns((pl.col("imatrix") == PREFERRED_IMATRIX).alias("_preferred"))
        .sort("_preferred", "mean_kld", descending=[True, False])
        .group_by("quant", maintain_order=True)
        .first()
        .select(
            "quant",
            pl.col("imatrix").alias("imatrix_used"),
            pl.col("mean_kld").alias("mean_kld_imatrix"),
            pl.col("delta_perplexity").alias("delta_perplexity_imatrix"),
            pl.col("perplexity").alias("perplexity_imatrix"),
        )
    )
    out = (
        qt.join(files, on="quant", how="left").join(plain, on="quant", how="left").join(imatrix, on="quant", how="left")
    )
    out = out.with_columns(
        pl.coalesce("mean_kld_imatrix", "mean_kld_plain").alias("mean_kld"),
        pl.coalesce("delta_perplexity_imatrix", "delta_perplexity_plain").alias("delta_perplexity"),
        pl.when(pl.col("mean_kld_imatrix").is_not_null())
        .then(pl.format(f"{QUALITY_REFERENCE_MODEL}, imatrix {{}}", pl.col("imatrix_used")))
        .when(pl.col("mean_kld_plain").is_not_null())
        .then(pl.lit(f"{QUALITY_REFERENCE_MODEL}, no imatrix"))
        .otherwise(pl.lit("not measured"))
        .alias("quality_basis"),
        pl.coalesce("perplexity_imatrix", "perplexity_plain").alias("perplexity"),
    )
    f16 = out.filter(pl.col("quant") == "F16").row(0, named=True)
    out = out.with_columns(
        # perplexity of F16 / perplexity of the type, both on the scoreboard: 100% is lossless
        (100 * f16["perplexity_plain"] / pl.col("perplexity")).alias("quality_kept_pct"),
        # how many times smaller than the F16 file (whole-file bits per weight of the reference model)
        (f16["file_bits_per_weight"] / pl.col("file_bits_per_weight")).alias("compression_vs_f16"),
    )
    out = out.with_columns(
        pl.col("mean_kld").map_elements(quality_band, return_dtype=pl.String, skip_nulls=False).alias("quality_band")
    )
    speed = backend_speed()
    for backend in BACKENDS:
        b = speed.filter(pl.col("backend") == backend).select(
            "quant",
            pl.col("bandwidth_use").alias(f"bandwidth_use_{backend.lower()}"),
            pl.col("verdict").alias(f"verdict_{backend.lower()}"),
            pl.col("evidence").alias(f"evidence_{backend.lower()}"),
        )
        out = out.join(b, on="quant", how="left")
    return out.sort("file_bits_per_weight", descending=True)


def f16_perplexity() -> float:
    """The F16 perplexity of the quality scoreboard (the baseline of every ΔPPL and quality-kept figure)."""
    return float(quant_summary().filter(pl.col("quant") == "F16")["perplexity_plain"][0])
