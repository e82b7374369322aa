"""Perplexity added per GB saved, across model sizes (pure polars).

For every published table that carries its own F16 baseline (``data/quality_by_model.csv``):

* ``perplexity_added_pct`` = 100 x (PPL(quant) / PPL(F16) - 1)
* ``gb_saved`` = (size(F16) - size(quant)) in decimal GB
* ``pct_per_gb_saved`` = perplexity_added_pct / gb_saved: the quality paid for each GB a quant saves.

Relative perplexity makes models with different base perplexity comparable; rows are only compared
with their own table's baseline.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from dashboard import data
from dashboard.memory import GB, GIB


@cache
def efficiency() -> pl.DataFrame:
    """One row per (table, model, quant) with perplexity, size and the efficiency figures."""
    q = data.load_table("quality_by_model").filter(
        pl.col("perplexity").is_not_null() & pl.col("file_size_gib").is_not_null()
    )
    base = q.filter(pl.col("quant") == "F16").select(
        "table", "model", pl.col("perplexity").alias("f16_perplexity"), pl.col("file_size_gib").alias("f16_gib")
    )
    out = q.filter(pl.col("quant") != "F16").join(base, on=["table", "model"], how="inner")
    out = out.with_columns(
        (100 * (pl.col("perplexity") / pl.col("f16_perplexity") - 1)).alias("perplexity_added_pct"),
        ((pl.col("f16_gib") - pl.col("file_size_gib")) * GIB / GB).alias("gb_saved"),
        (pl.col("f16_gib") * GIB / GB).alias("f16_size_gb"),
    )
    out = out.with_columns((pl.col("perplexity_added_pct") / pl.col("gb_saved")).alias("pct_per_gb_saved"))
    return out.select(
        "table",
        "model",
        "quant",
        "f16_size_gb",
        "file_size_gib",
        "perplexity",
        "f16_perplexity",
        "perplexity_added_pct",
        "gb_saved",
        "pct_per_gb_saved",
        "provenance",
        "source",
    ).sort("f16_size_gb", "quant")
