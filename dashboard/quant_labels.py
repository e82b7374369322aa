"""Quant labels as people write them: llama-quantize's types and the labels beyond them.

Pure domain logic (no Panel). GGUF publishers name files with labels llama-quantize does not list:
Unsloth's dynamic quants (``UD-Q4_K_XL``), bartowski's ``Q4_K_L`` (Q8_0 embeddings and output), ik_llama.cpp's
``IQ2_KL``, the ARM repacks ``Q4_0_4_4``. A measurement keeps its label as written; :func:`base_type` maps it
to the llama-quantize type it is built on where the label makes that evident (``UD-Q4_K_XL`` -> ``Q4_K_M``),
and the charts place it by its measured file size, never by the base type's size.
"""

from __future__ import annotations

import re

from dashboard.gguf_mix import DEFAULT_TYPE

MAX_LABEL_CHARS = 40
# A label: letters, digits and _ . + -, starting with a letter or digit, with at least one digit.
_LABEL = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9_.+\-]{0,39}$")
# llama-quantize's aliases (tools/quantize/quantize.cpp: Q3_K = Q3_K_M, Q4_K = Q4_K_M, Q5_K = Q5_K_M)
_ALIASES = {"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M", "FP16": "F16", "FP32": "F32"}
# Publishers' prefixes and suffixes around a llama-quantize type: Unsloth dynamic (UD-), bartowski's _L / _XL
# (larger embedding and output tensors), ARM/AVX repacks of Q4_0 and IQ4_NL (_4_4, _4_8, _8_8).
_PREFIX = re.compile(r"^UD-")
_SUFFIX = re.compile(r"(?:_XXL|_XL|_L|_\d_\d)$")
# The quant label at the end of a GGUF file's stem, e.g. Qwen3-30B-A3B-UD-Q2_K_XL(-00001-of-00002).gguf
_FILE_LABEL = re.compile(
    r"[-._]((?:UD-)?(?:IQ\d|Q\d|TQ\d|MXFP4|BF16|F16|F32)[A-Za-z0-9_]*)(?:-\d{5}-of-\d{5})?\.gguf$", re.IGNORECASE
)
_LOADER_FILE = re.compile(r"\bfrom\s+(\S+\.gguf)\b", re.IGNORECASE)


def normalise(value: str) -> str:
    """The label to store: llama-quantize types in their canonical spelling, any other label as written.

    Raises ``ValueError`` (with a message for the user) for text that is not a label.
    """
    label = value.strip()
    if not _LABEL.match(label):
        raise ValueError(
            f"{label[:MAX_LABEL_CHARS]!r} is not a quant label: use letters, digits, _ . + - (at most "
            f"{MAX_LABEL_CHARS} characters, at least one digit), e.g. Q4_K_M, IQ4_XS, UD-Q4_K_XL, Q4_0_4_4"
        )
    upper = _ALIASES.get(label.upper(), label.upper())
    return upper if upper in DEFAULT_TYPE else label


def base_type(label: str) -> str | None:
    """The llama-quantize type ``label`` is built on, where the label makes it evident; else None."""
    upper = _ALIASES.get(label.upper(), label.upper())
    if upper in DEFAULT_TYPE:
        return upper
    core = _SUFFIX.sub("", _PREFIX.sub("", upper))
    core = _ALIASES.get(core, core)
    return core if core in DEFAULT_TYPE else None


def label_in_log(text: str) -> str | None:
    """The quant label in the GGUF file name llama.cpp's loader prints (``... tensors from <path>.gguf``)."""
    for line in text.splitlines():
        if ".gguf" not in line:
            continue
        found = _LOADER_FILE.search(line[:2000])
        if not found:
            continue
        label = _FILE_LABEL.search(found.group(1).rsplit("/", 1)[-1])
        if label:
            try:
                return normalise(label.group(1))
            except ValueError:
                return None
    return None
