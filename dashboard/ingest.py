"""Bring your own measurements and models: parse what users paste or upload (pure, no Panel).

* :func:`parse_measurements` reads a CSV in the documented schema (:data:`CSV_COLUMNS`) or the text that
  llama.cpp's ``llama-perplexity`` prints (the ``Final estimate: PPL = ...`` line of a plain run, or the
  "Perplexity statistics", "KL divergence statistics" and "Token probability statistics" blocks of a
  ``--kl-divergence`` run). It returns a polars frame in :data:`MEASUREMENT_SCHEMA`.

Bad input raises :class:`InputError` (a ``ValueError``) whose message names the line and what was
expected; nothing else escapes. Every user string stays text: rendering escapes it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re

import polars as pl

from dashboard import quant_labels
from dashboard.limits import InputError

MAX_BYTES = 5_000_000
MAX_ROWS = 100_000
MAX_NAME_CHARS = 120

MEASUREMENT_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "quant": pl.String(),
    "quant_base": pl.String(),  # the llama-quantize type a label is built on, where evident (quant_labels)
    "file_size_gib": pl.Float64(),
    "perplexity": pl.Float64(),
    "perplexity_err": pl.Float64(),
    "delta_perplexity": pl.Float64(),
    "mean_kld": pl.Float64(),
    "rms_delta_p_pct": pl.Float64(),
    "same_top_p_pct": pl.Float64(),
    "generation_tokens_per_s": pl.Float64(),
    "prompt_tokens_per_s": pl.Float64(),
    "source": pl.String(),
}

# CSV columns: name -> (required, lower bound exclusive, upper bound inclusive, unit)
CSV_COLUMNS: dict[str, tuple[bool, float, float, str]] = {
    "model": (True, 0, 0, "text"),
    "quant": (True, 0, 0, "quant label, e.g. Q4_K_M, IQ4_XS, UD-Q4_K_XL"),
    "file_size_gib": (False, 0.0, 100_000.0, "GiB"),
    "perplexity": (False, 1.0 - 1e-9, 1e6, "unitless, > 1"),
    "perplexity_err": (False, -1e-12, 1e6, "unitless"),
    "delta_perplexity": (False, -1e6, 1e6, "perplexity minus the F16 perplexity"),
    "mean_kld": (False, -1e-3, 100.0, "nats"),
    "rms_delta_p_pct": (False, -1e-12, 100.0, "percentage points"),
    "same_top_p_pct": (False, -1e-12, 100.0, "%"),
    "generation_tokens_per_s": (False, 0.0, 1e7, "tokens/s"),
    "prompt_tokens_per_s": (False, 0.0, 1e7, "tokens/s"),
}
MEASURED = [c for c in CSV_COLUMNS if c not in ("model", "quant", "perplexity_err")]

# llama.cpp's ftype names as printed by llama_ftype_name() -> llama-quantize names
FTYPE_NAMES = {
    "all F32": "F32",
    "F16": "F16",
    "BF16": "BF16",
    "Q4_0": "Q4_0",
    "Q4_1": "Q4_1",
    "Q5_0": "Q5_0",
    "Q5_1": "Q5_1",
    "Q8_0": "Q8_0",
    "Q1_0": "Q1_0",
    "Q2_0": "Q2_0",
    "MXFP4 MoE": "MXFP4_MOE",
    "Q2_K - Medium": "Q2_K",
    "Q2_K - Small": "Q2_K_S",
    "Q3_K - Small": "Q3_K_S",
    "Q3_K - Medium": "Q3_K_M",
    "Q3_K - Large": "Q3_K_L",
    "Q4_K - Small": "Q4_K_S",
    "Q4_K - Medium": "Q4_K_M",
    "Q5_K - Small": "Q5_K_S",
    "Q5_K - Medium": "Q5_K_M",
    "Q6_K": "Q6_K",
    "TQ1_0 - 1.69 bpw ternary": "TQ1_0",
    "TQ2_0 - 2.06 bpw ternary": "TQ2_0",
    "IQ2_XXS - 2.0625 bpw": "IQ2_XXS",
    "IQ2_XS - 2.3125 bpw": "IQ2_XS",
    "IQ2_S - 2.5 bpw": "IQ2_S",
    "IQ2_M - 2.7 bpw": "IQ2_M",
    "IQ3_XS - 3.3 bpw": "IQ3_XS",
    "IQ3_XXS - 3.0625 bpw": "IQ3_XXS",
    "IQ1_S - 1.5625 bpw": "IQ1_S",
    "IQ1_M - 1.75 bpw": "IQ1_M",
    "IQ4_NL - 4.5 bpw": "IQ4_NL",
    "IQ4_XS - 4.25 bpw": "IQ4_XS",
    "IQ3_S - 3.4375 bpw": "IQ3_S",
    "IQ3_S mix - 3.66 bpw": "IQ3_M",
}
# One number, unambiguous and bounded: every way to match a string is tried at most once (no backtracking
# blow-up on a long run of digits), so a pattern built from it runs in linear time over a line.
NUMBER = r"([-+]?(?:\d{1,40}(?:\.\d{0,40})?|\.\d{1,40})(?:[eE][-+]?\d{1,4})?|nan|inf|-inf)"
# llama-perplexity's lines are under 200 characters; only the start of a longer line is searched.
MAX_LOG_LINE_CHARS = 1_000


def _text_of(data: str | bytes) -> str:
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InputError(f"the input is {len(data):,} bytes; the limit is {MAX_BYTES:,} bytes (5 MB)")
        if b"\x00" in data:
            raise InputError("the input looks binary (it contains NUL bytes); paste text or upload a .csv/.txt")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"the input is not UTF-8 text (bad byte at offset {exc.start})") from None
    if not isinstance(data, str):
        raise InputError(f"expected text, got {type(data).__name__}")
    if len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InputError(f"the input is larger than {MAX_BYTES:,} bytes (5 MB)")
    if "\x00" in data:
        raise InputError("the input looks binary (it contains NUL characters)")
    if not data.strip():
        raise InputError("the input is empty: paste a CSV or the output of llama-perplexity")
    return data


def _clean_name(value: str, what: str, line: int | None) -> str:
    where = f"line {line}: " if line else ""
    value = value.strip()
    if not value:
        raise InputError(f"{where}{what} is empty")
    if len(value) > MAX_NAME_CHARS:
        raise InputError(f"{where}{what} is longer than {MAX_NAME_CHARS} characters")
    if any(ord(c) < 32 for c in value):
        raise InputError(f"{where}{what} contains control characters")
    return value


def _quant(value: str, line: int | None) -> str:
    try:
        return quant_labels.normalise(_clean_name(value, "quant type", line))
    except ValueError as exc:
        where = f"line {line}: " if line else ""
        raise InputError(f"{where}{exc}") from None


def _number(raw: str, column: str, line: int) -> float | None:
    raw = raw.strip()
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"line {line}, column {column!r}: expected a number, got {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise InputError(f"line {line}, column {column!r}: expected a finite number, got {raw[:40]!r}")
    _, lo, hi, unit = CSV_COLUMNS[column]
    if not lo < value <= hi:
        raise InputError(
            f"line {line}, column {column!r}: {value:g} is out of range for {unit} "
            f"(expected more than {lo:g} and at most {hi:g})"
        )
    return value


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    full = [{c: r.get(c) for c in MEASUREMENT_SCHEMA} for r in rows]
    for r in full:
        r["quant_base"] = quant_labels.base_type(str(r["quant"]))
    df = pl.DataFrame(full, schema=MEASUREMENT_SCHEMA)
    # ΔPPL for plain runs: perplexity minus the same model's F16 (or BF16) row, when the input has one.
    base = (
        df.filter(pl.col("quant").is_in(["F16", "BF16"]) & pl.col("perplexity").is_not_null())
        .group_by("model")
        .agg(pl.col("perplexity").first().alias("_base"))
    )
    df = df.join(base, on="model", how="left").with_columns(
        pl.coalesce("delta_perplexity", pl.col("perplexity") - pl.col("_base")).alias("delta_perplexity")
    )
    return df.drop("_base").select(list(MEASUREMENT_SCHEMA))


def _parse_csv(text: str) -> pl.DataFrame:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise InputError(f"line 1: cannot read the CSV header ({exc})") from None
    missing = [c for c, (required, *_rest) in CSV_COLUMNS.items() if required and c not in header]
    if missing:
        raise InputError(
            f"line 1: the CSV needs the columns {', '.join(missing)} (found: {', '.join(h[:30] for h in header[:12])})"
        )
    unknown = [h for h in header if h not in CSV_COLUMNS and h not in ("notes", "source")]
    if unknown:
        raise InputError(
            f"line 1: unknown column(s) {', '.join(u[:30] for u in unknown[:5])}; "
            f"known columns: {', '.join(CSV_COLUMNS)}"
        )
    if len(set(header)) != len(header):
        raise InputError("line 1: a column name is repeated")
    rows = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise InputError(f"line {line}: more than {MAX_ROWS:,} rows; the limit is {MAX_ROWS:,}")
            if len(record) != len(header):
                raise InputError(f"line {line}: expected {len(header)} fields, found {len(record)}")
            cells = dict(zip(header, record, strict=True))
            row: dict[str, object] = {
                "model": _clean_name(cells["model"], "model", line),
                "quant": _quant(cells["quant"], line),
                "source": "user CSV" + (f": {cells['source'].strip()[:80]}" if cells.get("source", "").strip() else ""),
            }
            for col in CSV_COLUMNS:
                if col in ("model", "quant") or col not in cells:
                    continue
                row[col] = _number(cells[col], col, line)
            if all(row.get(c) is None for c in MEASURED):
                raise InputError(f"line {line}: no measurement; give at least one of {', '.join(MEASURED)}")
            rows.append(row)
    except csv.Error as exc:
        raise InputError(f"line {reader.line_num}: malformed CSV ({exc})") from None
    if not rows:
        raise InputError("the CSV has a header but no data rows")
    return _frame(rows)


class _Log:
    """The lines of a llama-perplexity output, searched one line at a time (linear in the input)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, marker: str, pattern: str) -> tuple[re.Match[str], int] | None:
        """The first line containing ``marker`` whose start matches ``pattern``, and its line number."""
        compiled = re.compile(pattern)
        for number, line in enumerate(self.lines, 1):
            if marker in line:
                match = compiled.search(line[:MAX_LOG_LINE_CHARS])
                if match:
                    return match, number
        return None

    def value(self, marker: str, pattern: str, column: str) -> float | None:
        found = self.find(marker, pattern)
        if not found:
            return None
        match, line = found
        return _number(match.group(1), column, line)


def _parse_perplexity_log(text: str, model: str | None, quant: str | None) -> pl.DataFrame:
    log = _Log(text)
    kld_block = "====== KL divergence statistics ======" in text or "====== Perplexity statistics ======" in text
    final = log.find("Final estimate", rf"Final estimate: PPL = {NUMBER} \+/- {NUMBER}")
    if not kld_block and not final:
        raise InputError(
            "no 'Final estimate: PPL = ...' line and no '====== ... statistics ======' block found; "
            "paste the end of llama-perplexity's output (or a CSV with a header row)"
        )
    if kld_block and not (log.find("Mean PPL(Q)", r"^Mean PPL\(Q\)") or log.find("KLD", r"^Mean\s+KLD:")):
        raise InputError(
            "found a statistics header but no 'Mean PPL(Q)' or 'Mean    KLD' line; the output looks truncated"
        )
    name_match = log.find("general.name", r"general\.name\s+(?:str\s+)?=\s*(\S.*)$")
    ftype_match = log.find("file type", r"file type\s+=\s*(\S.*)$")
    size_match = log.find("file size", rf"file size\s+=\s*{NUMBER} (GiB|MiB)")
    if not model:
        if not name_match:
            raise InputError("the text does not name the model (no 'general.name' line): enter the model name")
        model = name_match[0].group(1)
    model = _clean_name(model, "model", None)
    quant = quant or quant_labels.label_in_log(text)  # UD-Q2_K_XL etc. live only in the file name
    if not quant:
        if not ftype_match:
            raise InputError("the text does not say the quant type (no 'file type' line): choose the quant type")
        ftype = ftype_match[0].group(1).strip().removeprefix("(guessed) ").strip()
        if ftype not in FTYPE_NAMES:
            raise InputError(f"line {ftype_match[1]}: unknown file type {ftype[:40]!r}: choose the quant type")
        quant = FTYPE_NAMES[ftype]
    row: dict[str, object] = {"model": model, "quant": _quant(quant, None), "source": "user llama-perplexity output"}
    if size_match:
        match, line = size_match
        size = float(match.group(1)) / (1024 if match.group(2) == "MiB" else 1)
        row["file_size_gib"] = _number(str(size), "file_size_gib", line)
    if kld_block:
        row["perplexity"] = log.value("Mean PPL(Q)", rf"^Mean PPL\(Q\)\s+:\s*{NUMBER}", "perplexity")
        err = log.find("Mean PPL(Q)", rf"^Mean PPL\(Q\)\s+:\s*{NUMBER}\s*±\s*{NUMBER}")
        if err:
            row["perplexity_err"] = _number(err[0].group(2), "perplexity_err", err[1])
        row["delta_perplexity"] = log.value(
            "PPL(base)", rf"^Mean PPL\(Q\)-PPL\(base\)\s+:\s*{NUMBER}", "delta_perplexity"
        )
        row["mean_kld"] = log.value("KLD", rf"^Mean\s+KLD:\s*{NUMBER}", "mean_kld")
        row["rms_delta_p_pct"] = log.value("RMS", rf"^RMS Δp\s*:\s*{NUMBER}", "rms_delta_p_pct")
        row["same_top_p_pct"] = log.value("Same top p", rf"^Same top p:\s*{NUMBER}", "same_top_p_pct")
        if row["mean_kld"] is None and row["perplexity"] is None:
            raise InputError(
                "found a statistics header but no 'Mean PPL(Q)' or 'Mean    KLD' line; the output looks truncated"
            )
    elif final:
        match, line = final
        row["perplexity"] = _number(match.group(1), "perplexity", line)
        row["perplexity_err"] = _number(match.group(2), "perplexity_err", line)
    return _frame([row])


def parse_measurements(data: str | bytes, *, model: str | None = None, quant: str | None = None) -> pl.DataFrame:
    """Parse pasted or uploaded measurements into :data:`MEASUREMENT_SCHEMA` rows.

    Parameters
    ----------
    data
        A CSV with a header row (columns :data:`CSV_COLUMNS`) or the output of ``llama-perplexity``.
    model, quant
        Names for llama-perplexity output that does not contain them (used only for that format).

    Raises
    ------
    InputError
        For anything that cannot be read, naming the line and what was expected.
    """
    try:
        text = _text_of(data)
        first = text.lstrip().splitlines()[0] if text.strip() else ""
        if "," in first and re.search(r"\bmodel\b", first, re.IGNORECASE):
            return _parse_csv(text)
        return _parse_perplexity_log(text, model, quant)
    except InputError:
        raise
    except Exception as exc:  # a parser bug must still reach the user as a readable message
        raise InputError(f"could not read the input ({type(exc).__name__}: {str(exc)[:200]})") from exc


# --- JSON as users paste it (dashboard.hf_config reads config.json with it) -----------------------------


def _reject_constant(name: str) -> float:
    raise InputError(f"config.json: {name} is not a number JSON allows; give a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"config.json: the number {text[:40]} is too large to represent; give a smaller number")
    return value


def _load_json(text: str) -> object:
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise InputError(f"config.json: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise InputError(
            "config.json: the JSON is nested too deeply to read (a Hugging Face config.json nests a few levels)"
        ) from None
