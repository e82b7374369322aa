"""Data integrity: every shipped table rejects a corrupted copy with file/line/column, and running the app
never changes the shipped files."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import polars as pl
import pytest

from dashboard import data


def first_numeric_column(name: str) -> str:
    schema = data.SCHEMAS[name]
    return next(c for c, spec in schema.items() if spec.dtype in (pl.Int64, pl.Float64))


@pytest.mark.parametrize("name", list(data.SCHEMAS))
def test_a_corrupted_copy_of_every_table_is_rejected_with_file_line_and_column(name: str, data_folder: Path) -> None:
    text = (data_folder / name).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    column = first_numeric_column(name)
    index = rows[0].index(column)
    target = next(i for i, r in enumerate(rows[1:], start=1) if r[index] != "")
    rows[target][index] = "corrupted"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    with pytest.raises(data.DataError) as info:
        data.parse_table(name, out.getvalue())
    message = str(info.value)
    assert name in message and f"line {target + 1}" in message and repr(column) in message


@pytest.mark.parametrize("name", list(data.SCHEMAS))
def test_a_truncated_copy_of_every_table_is_rejected(name: str, data_folder: Path) -> None:
    lines = (data_folder / name).read_text(encoding="utf-8").splitlines()
    half = max(1, len(lines) // 2)
    cut = "\n".join([*lines[:half], lines[half].split(",")[0]])  # the file ends after one field of a row
    with pytest.raises(data.DataError, match=rf"{name}, line \d+: expected \d+ fields"):
        data.parse_table(name, cut)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.csv"))}


def test_running_the_app_leaves_the_shipped_data_unchanged(data_folder: Path) -> None:
    before = digest(data_folder)
    import panel as pn

    from dashboard.app import build_app
    from dashboard.state import Explorer

    explorer = Explorer()
    template = build_app(explorer)
    for vram in (8.0, 24.0, 80.0):
        explorer.constraints.vram_gb = vram
    explorer.select(["Q4_K_M"])
    explorer.dataset_csv()
    pn.panel(template.main[0]).get_root()
    assert digest(data_folder) == before
