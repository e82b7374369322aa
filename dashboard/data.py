"""Load and validate the dashboard's sourced data files (``data/*.csv``) into polars frames.

Each table has an explicit schema. A malformed file raises :class:`DataError` naming the file, the
1-based line of the CSV file and the column, so a bad edit is found at once. Nothing else lives here:
no derived numbers, no Panel.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

DATA_ENV_VAR = "QUANT_DASHBOARD_DATA"


class DataError(ValueError):
    """A data file is missing, malformed, or breaks its schema."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its polars type, whether it may be empty, and a lower bound for numbers."""

    dtype: type[pl.DataType]
    nullable: bool = False
    minimum: float | None = None


TEXT = Column(pl.String)
OPTIONAL_TEXT = Column(pl.String, nullable=True)
INT = Column(pl.Int64, minimum=0)
POSITIVE = Column(pl.Float64, minimum=0.0)
OPTIONAL_POSITIVE = Column(pl.Float64, nullable=True, minimum=0.0)
BOOL = Column(pl.Boolean)

# the architecture columns of the two tables measured with llama.cpp on random-weight models
MEASURED_SHAPE: dict[str, Column] = {
    "shape": TEXT,
    "hidden_size": Column(pl.Int64, minimum=1),
    "n_layers": Column(pl.Int64, minimum=1),
    "n_heads": Column(pl.Int64, minimum=1),
    "n_kv_heads": Column(pl.Int64, minimum=1),
    "head_dim": Column(pl.Int64, minimum=1),
    "ffn_hidden_size": Column(pl.Int64, minimum=1),
    "vocab_size": Column(pl.Int64, minimum=1),
}

SCHEMAS: dict[str, dict[str, Column]] = {
    "ggml_types.csv": {
        "ggml_type": TEXT,
        "ggml_type_id": INT,
        "block_size_weights": Column(pl.Int64, minimum=1),
        "bytes_per_block": Column(pl.Int64, minimum=1),
        "bits_per_weight": POSITIVE,
        "kv_cache_type": BOOL,
        "source": TEXT,
    },
    "quant_types.csv": {
        "quant": TEXT,
        "ftype_id": INT,
        "family": TEXT,
        "base_ggml_type": TEXT,
        "nominal_bits_per_weight": POSITIVE,
        "description": TEXT,
        "source": TEXT,
    },
    "llama31_8b_files.csv": {
        "model": TEXT,
        "quant": TEXT,
        "file_bits_per_weight": POSITIVE,
        "file_size_gib": POSITIVE,
        "prompt_tokens_per_s": POSITIVE,
        "prompt_tokens_per_s_err": POSITIVE,
        "generation_tokens_per_s": POSITIVE,
        "generation_tokens_per_s_err": POSITIVE,
        "hardware_backend": TEXT,
        "source": TEXT,
    },
    "llama3_8b_quality.csv": {
        "quant": TEXT,
        "imatrix": TEXT,
        "file_size_gib": POSITIVE,
        "perplexity": POSITIVE,
        "perplexity_err": POSITIVE,
        # ΔPPL and the Δp statistics can be negative (BF16 beats F16 on some tests).
        "delta_perplexity": Column(pl.Float64),
        "delta_perplexity_err": POSITIVE,
        "mean_kld": POSITIVE,
        "mean_kld_err": POSITIVE,
        "mean_delta_p_pct": Column(pl.Float64),
        "rms_delta_p_pct": POSITIVE,
        "source": TEXT,
    },
    "speed.csv": {
        "run_id": Column(pl.Int64, minimum=1),
        "model": TEXT,
        "hardware": TEXT,
        "backend": TEXT,
        "backend_basis": TEXT,
        "backend_as_stated": TEXT,
        "quant": TEXT,
        "test": TEXT,
        "tokens_per_s": POSITIVE,
        "derivation": OPTIONAL_TEXT,
        "note": OPTIONAL_TEXT,
        "source": TEXT,
    },
    "quality_by_model.csv": {
        "table": TEXT,
        "model": TEXT,
        "quant": TEXT,
        "file_size_gib": OPTIONAL_POSITIVE,
        "perplexity": OPTIONAL_POSITIVE,
        "provenance": TEXT,
        "source": TEXT,
    },
    "models.csv": {
        "model": TEXT,
        "family": TEXT,
        "params_stated": OPTIONAL_POSITIVE,
        "params_active_stated": OPTIONAL_POSITIVE,
        "n_layers": Column(pl.Int64, minimum=1),
        "hidden_size": Column(pl.Int64, minimum=1),
        "n_heads": Column(pl.Int64, minimum=1),
        "n_kv_heads": Column(pl.Int64, minimum=1),
        "head_dim": Column(pl.Int64, minimum=1),
        "ffn_hidden_size": Column(pl.Int64, minimum=1),
        "vocab_size": Column(pl.Int64, minimum=1),
        "tied_embeddings": BOOL,
        "attention_bias": BOOL,
        "max_context": Column(pl.Int64, minimum=1),
        "sliding_window": Column(pl.Int64, nullable=True, minimum=1),
        "n_swa_layers": INT,
        "n_experts": Column(pl.Int64, minimum=1),
        "n_experts_used": Column(pl.Int64, minimum=1),
        "n_shared_experts": INT,
        "expert_ffn_hidden_size": Column(pl.Int64, nullable=True, minimum=1),
        "n_dense_layers": INT,
        "q_lora_rank": Column(pl.Int64, nullable=True, minimum=1),
        "kv_lora_rank": Column(pl.Int64, nullable=True, minimum=1),
        "rope_head_dim": Column(pl.Int64, nullable=True, minimum=1),
        "v_head_dim": Column(pl.Int64, nullable=True, minimum=1),
        "attention_notes": OPTIONAL_TEXT,
        "source": TEXT,
    },
    "devices.csv": {
        "device": TEXT,
        "vendor": TEXT,
        "device_class": TEXT,
        "speed_class": TEXT,
        "memory_type": TEXT,
        "memory_gb": Column(pl.Float64, nullable=True, minimum=1.0),
        "memory_bandwidth_gb_per_s": Column(pl.Float64, minimum=1.0),
        "bandwidth_kind": TEXT,
        "notes": OPTIONAL_TEXT,
        "source": TEXT,
    },
    "apple_working_set.csv": {
        "machine": TEXT,
        "installed_memory_gib": Column(pl.Float64, minimum=1.0),
        "reported_working_set": POSITIVE,
        "reported_unit": TEXT,
        "working_set_share": Column(pl.Float64, minimum=0.1),
        "build": TEXT,
        "source": TEXT,
    },
    "llama_bench_devices.csv": {
        "device_label": TEXT,
        "device": TEXT,
        "n_gpus": Column(pl.Int64, minimum=1),
        "model": TEXT,
        "model_as_stated": TEXT,
        "quant": TEXT,
        "file_size_gib": POSITIVE,
        "test": TEXT,
        "generated_tokens": Column(pl.Int64, minimum=1),
        "tokens_per_s": POSITIVE,
        "tokens_per_s_err": OPTIONAL_POSITIVE,
        "build": TEXT,
        "note": OPTIONAL_TEXT,
        "source": TEXT,
    },
    # cross-size quality: perplexity compares only within one `table` (one method, one tokenizer family)
    "quality_sizes_ppl.csv": {
        "table": TEXT,
        "tokenizer_family": TEXT,
        "model": TEXT,
        "params_b": POSITIVE,
        "quant": TEXT,
        "imatrix": TEXT,
        "file_size_gib": OPTIONAL_POSITIVE,
        "perplexity": POSITIVE,
        "perplexity_err": OPTIONAL_POSITIVE,
        "dataset": TEXT,
        "source": TEXT,
    },
    "quality_sizes_mmlu.csv": {
        "table": TEXT,
        "model": TEXT,
        "params_b": POSITIVE,
        "quant": TEXT,
        "format": TEXT,
        "size_without_embeddings_gib": POSITIVE,
        "mmlu_accuracy_pct": POSITIVE,
        "questions": TEXT,
        "source": TEXT,
    },
    "llamacpp_file_sizes.csv": {
        **MEASURED_SHAPE,
        "tied_embeddings": BOOL,
        "attention_bias": BOOL,
        "quant": TEXT,
        "imatrix": BOOL,
        "method": TEXT,
        "file_size_bytes": Column(pl.Int64, minimum=1),
        "tensor_bytes": Column(pl.Int64, minimum=1),
        "n_weights": Column(pl.Int64, minimum=1),
        "source": TEXT,
    },
    "llamacpp_buffers.csv": {
        **MEASURED_SHAPE,
        "context_tokens": Column(pl.Int64, minimum=1),
        "flash_attention": BOOL,
        "kv_cache_type": TEXT,
        "n_ubatch": Column(pl.Int64, minimum=1),
        "kv_buffer_mib": POSITIVE,
        "compute_buffer_mib": POSITIVE,
        "output_buffer_mib": POSITIVE,
        "source": TEXT,
    },
}

TABLES = tuple(name.removesuffix(".csv") for name in SCHEMAS)


def data_dir() -> Path:
    """Where the data files are: ``$QUANT_DASHBOARD_DATA``, the checkout's ``data/``, the wheel's copy, or ``./data``.

    The last is where ``panel convert --resources`` unpacks files in the browser build.
    """
    env = os.environ.get(DATA_ENV_VAR)
    candidates = [Path(env)] if env else []
    here = Path(__file__).resolve().parent
    candidates += [here.parent / "data", here / "_data", Path.cwd() / "data"]
    for candidate in candidates:
        if (candidate / "quant_types.csv").is_file():
            return candidate
    raise DataError(
        "cannot find the data folder (looked in " + ", ".join(str(c) for c in candidates) + f"); set ${DATA_ENV_VAR}"
    )


def _cast_cell(raw: str, column: Column) -> object:
    if column.dtype is pl.String:
        return raw
    if column.dtype is pl.Boolean:
        lowered = raw.strip().lower()
        if lowered not in ("true", "false"):
            raise ValueError(f"expected true or false, got {raw!r}")
        return lowered == "true"
    if column.dtype is pl.Int64:
        value: float = int(raw)
    else:
        value = float(raw)
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {raw!r}")
    if column.minimum is not None and value < column.minimum:
        raise ValueError(f"expected a value >= {column.minimum:g}, got {raw!r}")
    return value


def parse_table(name: str, text: str) -> pl.DataFrame:
    """Parse the CSV ``text`` of table ``name`` against its schema.

    Raises
    ------
    DataError
        Naming the file, the CSV line and the column of the first problem found.
    """
    schema = SCHEMAS[name]
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{name}: the file is empty (expected a header row)") from None
    missing = [c for c in schema if c not in header]
    extra = [c for c in header if c not in schema]
    if missing or extra:
        raise DataError(f"{name}, line 1: header mismatch; missing columns {missing}, unexpected columns {extra}")
    index = {c: header.index(c) for c in schema}
    columns: dict[str, list[object]] = {c: [] for c in schema}
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(header):
            raise DataError(f"{name}, line {line}: expected {len(header)} fields, found {len(row)}")
        for col, spec in schema.items():
            raw = row[index[col]]
            if raw == "":
                if not spec.nullable:
                    raise DataError(f"{name}, line {line}, column {col!r}: value is required")
                columns[col].append(None)
                continue
            try:
                columns[col].append(_cast_cell(raw, spec))
            except ValueError as exc:
                raise DataError(f"{name}, line {line}, column {col!r}: {exc}") from None
    return pl.DataFrame(columns, schema={c: spec.dtype for c, spec in schema.items()})


def schema_of(name: str) -> dict[str, pl.DataType]:
    """The polars schema table ``name`` loads with."""
    return {c: spec.dtype() for c, spec in SCHEMAS[f"{name}.csv"].items()}


@cache
def load_table(name: str, folder: str | None = None) -> pl.DataFrame:
    """Load one table (``"quant_types"``, ``"models"``...) from the data folder; cached, read-only."""
    path = Path(folder) if folder else data_dir()
    file = path / f"{name}.csv"
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{name}.csv: file not found in {path}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}.csv: not UTF-8 text (byte offset {exc.start})") from None
    return parse_table(f"{name}.csv", text)


def load_all(folder: str | None = None) -> dict[str, pl.DataFrame]:
    """Every table, validated."""
    return {name: load_table(name, folder) for name in TABLES}
