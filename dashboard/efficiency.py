"""Efficiency: perplexity added per GB saved, across model sizes (pure polars).

"Efficiency" in this project means only this: the quality a quant type costs for each GB it saves. (How
close a type's generation gets to the memory-bandwidth limit is its *bandwidth use*, :mod:`dashboard.quants`.)

For every published table that carries its own F16 baseline (``data/quality_by_model.csv``), and for the
user's own models that have an F16 (or BF16) row:

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
from dashboard.memory import gib_to_gb

BASELINE_QUANTS = ("F16", "BF16")  # a user's model is compared with its own 16-bit row
COLUMNS = (
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
    "source",
)


def _against_baseline(rows: pl.DataFrame, base: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """The efficiency columns of ``rows`` against their baseline (``f16_perplexity``, ``f16_gib`` per ``on``)."""
    out = rows.join(base, on=on, how="inner").with_columns(
        (100 * (pl.col("perplexity") / pl.col("f16_perplexity") - 1)).alias("perplexity_added_pct"),
        gib_to_gb(pl.col("f16_gib") - pl.col("file_size_gib")).alias("gb_saved"),
        gib_to_gb(pl.col("f16_gib")).alias("f16_size_gb"),
    )
    out = out.filter(pl.col("gb_saved") > 0)  # a "quant" as big as its baseline saves nothing to divide by
    return out.with_columns((pl.col("perplexity_added_pct") / pl.col("gb_saved")).alias("pct_per_gb_saved"))


@cache
def published_efficiency() -> pl.DataFrame:
    """One row per (table, model, quant) of the published tables, with the efficiency figures."""
    q = data.load_table("quality_by_model").filter(
        pl.col("perplexity").is_not_null() & pl.col("file_size_gib").is_not_null()
    )
    base = q.filter(pl.col("quant") == "F16").select(
        "table", "model", pl.col("perplexity").alias("f16_perplexity"), pl.col("file_size_gib").alias("f16_gib")
    )
    out = _against_baseline(q.filter(pl.col("quant") != "F16"), base, ["table", "model"])
    return out.select(*COLUMNS, "provenance").sort("f16_size_gb", "quant")


def user_efficiency(user: pl.DataFrame) -> pl.DataFrame:
    """Efficiency rows for the user's models that have an F16 (or BF16) row with size and perplexity.

    ``table`` is "yours" and the model is labelled "<name> (yours)".
    """
    rows = user.filter(pl.col("file_size_gib").is_not_null() & pl.col("perplexity").is_not_null())
    base = (
        rows.filter(pl.col("quant").is_in(BASELINE_QUANTS))
        .group_by("model")
        .agg(pl.col("perplexity").first().alias("f16_perplexity"), pl.col("file_size_gib").first().alias("f16_gib"))
    )
    out = _against_baseline(rows.filter(~pl.col("quant").is_in(BASELINE_QUANTS)), base, ["model"])
    out = out.with_columns(pl.lit("yours").alias("table"), pl.format("{} (yours)", pl.col("model")).alias("model"))
    return out.select(COLUMNS)


def efficiency(user: pl.DataFrame | None = None) -> pl.DataFrame:
    """The published efficiency rows, followed by the user's (:func:`user_efficiency`) when given."""
    published = published_efficiency().select(COLUMNS)
    if user is None or not user.height:
        return published
    return pl.concat([published, user_efficiency(user)], how="vertical_relaxed")
