"""Your hardware: device presets, the memory a device gives llama.cpp, and token-generation speed.

Pure domain logic (no Panel). Quick use::

    from dashboard.hardware import device_names, estimate_speed
    s = estimate_speed("Llama-3.1-8B", "Q4_K_M", device="GeForce RTX 4090", context=4096, kv_cache="f16")
    s.generation_tokens_per_s, s.gpu_layers, s.basis

* **Devices** are ``data/devices.csv`` (memory size and bandwidth, sourced). Apple silicon gives Metal only
  part of its unified memory by default (``recommendedMaxWorkingSetSize``): the share llama.cpp logged on real
  machines is ``data/apple_working_set.csv`` (2/3 up to 32 GB, 3/4 from 48 GB); ``sudo sysctl
  iogpu.wired_limit_mb=N`` raises it.
* **Speed**: generating one token streams every weight that token uses (the active experts only, for MoE) and
  the KV cache filled so far, so ``seconds per token = overhead + bytes / (bandwidth use x bandwidth)``. Bytes come
  from the memory model (each tensor at the ggml type llama.cpp's quant mix gives it; the token embedding is a
  row lookup, not a stream). The bandwidth uses (by device class and weight family) and the overheads (per layer
  per token, and per extra GPU) are fitted to measured llama-bench runs (``data/llama_bench_devices.csv``) and
  validated on the devices kept out of each fit (:func:`validation`). Per-type effects measured on a backend
  (i-quants on Metal, some k-quants on CUDA; ``data/speed.csv``) scale the bandwidth use of that type.
* **Offload**: when the model does not fit, the last layers go to the GPU (``-ngl N``) and the rest runs from
  system RAM at its bandwidth; MoE models can instead keep the experts of the first layers in RAM
  (``--n-cpu-moe N``), which reads only the active experts from the slower memory. The faster is chosen.
* Prompt processing is compute bound; the device table has no compute throughput, so it is not estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import polars as pl

from dashboard import data
from dashboard.architecture import DEEP_ARCHITECTURE_CACHE_SIZE, DEEP_ARCHITECTURE_LAYERS, ModelSpec
from dashboard.memory import (
    GB,
    GIB,
    compute_buffer_bytes,
    kv_cache_bytes,
    output_buffer_bytes,
    resolve_model,
    tensor_types,
)
from dashboard.memory import estimate as memory_estimate
from dashboard.quants import backend_speed

CUSTOM_DEVICE = "custom"
DEFAULT_DEVICE = "GeForce RTX 4090"
# Where the layers that do not fit on the GPU run: a common desktop (the catalog's DDR rows).
DEFAULT_HOST_MEMORY = "DDR5-5600 dual-channel desktop"
SPEED_CLASSES: tuple[str, ...] = ("gpu_gddr", "gpu_hbm", "apple_metal", "cpu_ram")
SPEED_CLASS_LABEL = {
    "gpu_gddr": "GPU with GDDR memory",
    "gpu_hbm": "GPU with HBM memory",
    "apple_metal": "Apple silicon (Metal)",
    "cpu_ram": "CPU with system RAM",
}
# The backend whose per-type measurements (data/speed.csv) apply to a class; AMD cards run llama.cpp's HIP port
# of the CUDA kernels, so they take CUDA's.
BACKEND_OF_CLASS = {"gpu_gddr": "CUDA", "gpu_hbm": "CUDA", "apple_metal": "Metal", "cpu_ram": "CPU"}
CLASS_OF_BACKEND = {"CUDA": "gpu_gddr", "Metal": "apple_metal", "CPU": "cpu_ram"}
# Headroom kept free for the driver/runtime and other programs: 5% of the budget, at least 0.5 GiB. The
# dashboard's rule, not a measurement (the recommender uses the same).
HEADROOM_FRACTION = 0.05
HEADROOM_MIN_GIB = 0.5
# A raised Metal limit, as a share of installed memory: iogpu.wired_limit_mb=114688 on a 128 GB Mac
# (github.com/antirez/ds4/pull/893 comment, 2026-08-29). Users type their own value.
RAISED_WIRED_LIMIT_SHARE = 114688 / (128 * 1024)


# ---------------------------------------------------------------------------------------------- devices


@dataclass(frozen=True)
class Device:
    """One device of the catalog: memory size (as labelled, decimal GB) and peak bandwidth (GB/s)."""

    name: str
    vendor: str
    device_class: str
    speed_class: str
    memory_gb: float | None
    memory_bandwidth_gb_per_s: float
    source: str
    notes: str = ""

    @property
    def is_apple(self) -> bool:
        """Apple silicon: unified memory, of which Metal may use a share."""
        return self.speed_class == "apple_metal"

    @property
    def is_cpu(self) -> bool:
        """System RAM only (no GPU): the model runs on the CPU."""
        return self.speed_class == "cpu_ram"

    @property
    def backend(self) -> str:
        """The llama.cpp backend family whose per-type speed measurements apply."""
        return BACKEND_OF_CLASS[self.speed_class]


@cache
def devices() -> dict[str, Device]:
    """Every catalog device by name (``data/devices.csv``), in file order."""
    df = data.load_table("devices")
    return {
        r["device"]: Device(
            name=r["device"],
            vendor=r["vendor"],
            device_class=r["device_class"],
            speed_class=r["speed_class"],
            memory_gb=r["memory_gb"],
            memory_bandwidth_gb_per_s=r["memory_bandwidth_gb_per_s"],
            source=r["source"],
            notes=r["notes"] or "",
        )
        for r in df.iter_rows(named=True)
    }


def device_names() -> list[str]:
    """The names the device picker and :func:`estimate_speed` accept (the ``device`` column), in catalog order."""
    return list(devices())


def get_device(name: str) -> Device:
    """The catalog device called ``name`` (KeyError naming the choices otherwise)."""
    table = devices()
    if name not in table:
        raise KeyError(f"unknown device {name!r}; see device_names() ({len(table)} devices)")
    return table[name]


def custom_device(memory_gb: float | None, bandwidth_gb_per_s: float | None, backend: str = "CUDA") -> Device:
    """A device that is not in the catalog: the memory and (optional) bandwidth the user typed."""
    if backend not in CLASS_OF_BACKEND:
        raise ValueError(f"backend must be one of {', '.join(CLASS_OF_BACKEND)}, got {backend!r}")
    return Device(
        name=CUSTOM_DEVICE,
        vendor="",
        device_class="custom",
        speed_class=CLASS_OF_BACKEND[backend],
        memory_gb=memory_gb,
        memory_bandwidth_gb_per_s=bandwidth_gb_per_s or math.nan,
        source="entered by the user",
    )


@cache
def _working_set_table() -> tuple[tuple[float, float, str], ...]:
    df = data.load_table("apple_working_set").sort("installed_memory_gib")
    return tuple(zip(df["installed_memory_gib"], df["working_set_share"], df["source"], strict=True))


def apple_working_set_share(installed_memory_gb: float) -> tuple[float, str]:
    """The share of unified memory Metal lets llama.cpp use by default, and where it was measured.

    The share logged by llama.cpp (``recommendedMaxWorkingSetSize``) on the largest measured Mac with no more
    memory than ``installed_memory_gb``: 2/3 for 8 to 32 GB, 3/4 from 48 GB (Apple's "GB" of RAM are GiB).
    Between 32 and 48 GB (36 GB M3 Pro) no machine was measured: the smaller share is used.
    """
    rows = _working_set_table()
    chosen = rows[0]
    for row in rows:
        if row[0] <= installed_memory_gb:
            chosen = row
    share, source = chosen[1], chosen[2]
    return share, f"Metal working set {share:.0%} of unified memory (llama.cpp log on a {chosen[0]:g} GB Mac, {source})"


@dataclass(frozen=True)
class MemoryBudget:
    """What a device gives llama.cpp for the model: total GPU memory usable, and its basis."""

    budget_gb: float
    installed_gb: float
    n_gpus: int
    basis: str

    @property
    def budget_gib(self) -> float:
        """The budget in GiB."""
        return self.budget_gb * GB / GIB


def memory_budget(
    device: Device | str,
    *,
    n_gpus: int = 1,
    memory_gb: float | None = None,
    metal_wired_limit_mb: float | None = None,
) -> MemoryBudget:
    """The memory llama.cpp can place the model in on ``device`` (decimal GB).

    GPUs: the card's memory times ``n_gpus`` (llama.cpp splits the layers across identical cards). Apple: the
    default Metal working set (:func:`apple_working_set_share`) of the installed memory, or the raised limit
    ``metal_wired_limit_mb`` (``sysctl iogpu.wired_limit_mb``, MiB). CPU: the system RAM. ``memory_gb``
    overrides the catalog's memory (an Apple configuration, your RAM).
    """
    dev = get_device(device) if isinstance(device, str) else device
    if n_gpus < 1 or n_gpus != int(n_gpus):
        raise ValueError(f"n_gpus must be a whole number >= 1, got {n_gpus!r}")
    installed = memory_gb if memory_gb is not None else dev.memory_gb
    if installed is None or not installed > 0:
        raise ValueError(f"{dev.name}: the memory size is not in the catalog; enter it")
    if dev.is_apple:
        installed_bytes = installed * GIB  # Apple's RAM sizes are binary
        if metal_wired_limit_mb is not None:
            limit = min(metal_wired_limit_mb * 2**20, installed_bytes)
            return MemoryBudget(
                limit / GB, installed, 1, f"raised Metal limit iogpu.wired_limit_mb={metal_wired_limit_mb:g}"
            )
        share, basis = apple_working_set_share(installed)
        return MemoryBudget(share * installed_bytes / GB, installed, 1, basis)
    if dev.is_cpu:
        return MemoryBudget(installed, installed, 1, "system RAM")
    count = int(n_gpus)
    label = f"{count} x {installed:g} GB" if count > 1 else f"{installed:g} GB"
    return MemoryBudget(installed * count, installed, count, f"{dev.name}: {label} of GPU memory")


def device_note(device: str, memory_gb: float, *, n_gpus: int = 1, metal_wired_limit_mb: float | None = None) -> str:
    """A sentence on what ``device`` gives llama.cpp (Markdown): the budget and, for Apple, the Metal limit and how
    to raise it. Empty for the custom device."""
    if device == CUSTOM_DEVICE:
        return ""
    dev = get_device(device)
    budget = memory_budget(dev, n_gpus=n_gpus, memory_gb=memory_gb, metal_wired_limit_mb=metal_wired_limit_mb)
    bw = f"{dev.memory_bandwidth_gb_per_s:g} GB/s"
    if dev.is_apple:
        suggested = raised_wired_limit_mb(memory_gb)
        if metal_wired_limit_mb is not None:
            return (
                f"**Metal limit raised** to {budget.budget_gb:.1f} GB (`iogpu.wired_limit_mb={metal_wired_limit_mb:g}`"
                f", MiB) of {memory_gb:g} GB unified memory, {bw}. It holds until reboot; leave room for macOS."
            )
        share, _ = apple_working_set_share(memory_gb)
        return (
            f"**Metal limit: {budget.budget_gb:.1f} GB** ({share:.0%} of {memory_gb:g} GB unified memory: the default "
            f"GPU working set llama.cpp logged on real Macs), {bw}. Raise it with `sudo sysctl "
            f"iogpu.wired_limit_mb={suggested}` (MiB; until reboot; leave room for macOS and apps), then switch on "
            "*use the raised limit*. macOS 26 was reported to default to ~84%."
        )
    if dev.is_cpu:
        return f"**CPU only**: {memory_gb:g} GB of system RAM at {bw} ({dev.name}); llama.cpp runs on the CPU."
    cards = f"{n_gpus} x {memory_gb:g} GB = {budget.budget_gb:g} GB" if n_gpus > 1 else f"{memory_gb:g} GB"
    return f"**{dev.name}**: {cards} of GPU memory, {bw}{' each' if n_gpus > 1 else ''}."


def raised_wired_limit_mb(installed_memory_gb: float) -> int:
    """A raised ``iogpu.wired_limit_mb`` to suggest (MiB): the share one user set on a 128 GB Mac (114688 MiB)."""
    return int(installed_memory_gb * 1024 * RAISED_WIRED_LIMIT_SHARE)


def headroom_gib(budget_gib: float) -> float:
    """Memory kept free inside a budget: 5% of it, at least 0.5 GiB (the dashboard's rule)."""
    return max(HEADROOM_FRACTION * budget_gib, HEADROOM_MIN_GIB)


# ---------------------------------------------------------------------------------------------- bytes per token


@dataclass(frozen=True)
class LayerBytes:
    """Bytes of one model at one quant type, split the way offloading splits them."""

    dense: tuple[int, ...]  # per layer: weights every token reads (attention, norms, router, shared experts)
    experts: tuple[int, ...]  # per layer: all routed experts' weights (a token reads n_used / n_experts of them)
    output: int  # output norm + output projection (read every token)
    embedding_row: int  # the token-embedding row looked up per token
    expert_share: float  # n_experts_used / n_experts (1 for dense models)


def layer_bytes(spec: ModelSpec, quant: str) -> LayerBytes:
    """Per-layer bytes of ``spec`` at ``quant``, from the memory model's tensor types (cached, bounded).

    An entry holds two integers per layer; architectures deeper than any published model (up to 1,260 layers,
    ~90 KiB an entry) share a small cache of their own, so pasted deep configs cannot fill the server.
    """
    deep = spec.n_layers > DEEP_ARCHITECTURE_LAYERS
    return (_deep_layer_bytes if deep else _layer_bytes)(spec, quant)


def _clear_layer_bytes() -> None:
    _layer_bytes.cache_clear()
    _deep_layer_bytes.cache_clear()


layer_bytes.cache_clear = _clear_layer_bytes  # type: ignore[attr-defined]  # as for an lru_cache


@lru_cache(maxsize=4096)
def _layer_bytes(spec: ModelSpec, quant: str) -> LayerBytes:
    return _compute_layer_bytes(spec, quant)


@lru_cache(maxsize=DEEP_ARCHITECTURE_CACHE_SIZE * 40)  # about 40 quant types per architecture
def _deep_layer_bytes(spec: ModelSpec, quant: str) -> LayerBytes:
    return _compute_layer_bytes(spec, quant)


def _compute_layer_bytes(spec: ModelSpec, quant: str) -> LayerBytes:
    tt = tensor_types(spec, quant)
    n = spec.n_layers
    dense, experts = [0] * n, [0] * n
    output = embedding = 0
    expert_names = ("_exps.weight",)
    for name, category, layer, nbytes in zip(tt["tensor"], tt["category"], tt["layer"], tt["bytes"], strict=True):
        if layer < 0:
            if category == "token_embd":
                embedding = nbytes
            else:
                output += nbytes
        elif name.endswith(expert_names):
            experts[layer] += nbytes
        else:
            dense[layer] += nbytes
    share = spec.n_experts_used / spec.n_experts if spec.n_experts > 1 else 1.0
    if spec.tied_embeddings:  # the output projection reads the whole embedding matrix every token
        output += embedding
    return LayerBytes(tuple(dense), tuple(experts), output, -(-embedding // spec.vocab_size), share)


def _kv_bytes_per_layer(spec: ModelSpec, tokens: int, kv_cache: str) -> float:
    """KV-cache bytes per layer holding ``tokens`` (unpadded average over layers)."""
    if tokens <= 0:
        return 0.0
    return kv_cache_bytes(spec, tokens, kv_cache) / spec.n_layers


# ---------------------------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class ClassCalibration:
    """Fitted speed parameters of one device class."""

    speed_class: str
    bandwidth_use_float: float  # achieved / peak bandwidth streaming F16 weights and the KV cache
    bandwidth_use_quant: float  # the same for quantised (k-quant) weights
    overhead_s_per_layer: float  # per token, per transformer layer (kernel launches, synchronisation)
    overhead_s_per_extra_gpu: float  # per token, per GPU beyond the first (layer split hand-over)
    n_rows: int
    basis: str


# CPU: no llama-bench run with a stated RAM speed is in the data. The CPU bandwidth use comes from one measured CPU
# run each (data/speed.csv; LLaMA 7B at Q4_0) against a RAM bandwidth: the Ryzen 7950X run against the desktop RAM
# the dashboard assumes for hosts (DDR5-5600 dual channel; the source does not state its RAM), the M2 Max CPU run
# against the M2 Max's unified memory. See _cpu_calibration(); these are not validated.
CPU_REFERENCE_RUNS = {"cpu_ram": (3, DEFAULT_HOST_MEMORY), "apple_cpu": (4, "Apple M2 Max")}
CPU_REFERENCE_QUANT = "Q4_0"
# LLaMA (v1) 7B, the model of those runs: 6.7B parameters, width 4096, 32 heads, 32 layers (arXiv 2302.13971,
# Table 2), vocabulary 32000 (same paper, section 2.1 Tokenizer); multi-head attention.
LLAMA_7B = ModelSpec(
    name="LLaMA-7B",
    params=6.7e9,
    n_layers=32,
    n_heads=32,
    n_kv_heads=32,
    head_dim=128,
    hidden_size=4096,
    vocab_size=32000,
    max_context=2048,
    source="arXiv 2302.13971 Table 2",
)


def _bench_rows() -> pl.DataFrame:
    """The measured llama-bench rows with the device's class, bandwidth and bytes per token (one frame)."""
    bench = data.load_table("llama_bench_devices")
    devs = devices()
    rows = []
    for r in bench.iter_rows(named=True):
        dev = devs[r["device"]]
        spec = resolve_model(r["model"]).resolved()
        lb = layer_bytes(spec, r["quant"])
        weights = sum(lb.dense) + sum(lb.experts) * lb.expert_share + lb.output + lb.embedding_row
        # llama-bench tgN starts from an empty cache and generates N tokens: on average N/2 are cached.
        kv = _kv_bytes_per_layer(spec, r["generated_tokens"] // 2, "f16") * spec.n_layers
        bw = dev.memory_bandwidth_gb_per_s * GB
        rows.append(
            {
                "device_label": r["device_label"],
                "device": r["device"],
                "speed_class": dev.speed_class,
                "n_gpus": r["n_gpus"],
                "model": r["model"],
                "quant": r["quant"],
                "test": r["test"],
                "n_layers": spec.n_layers,
                "float_s": (weights if r["quant"] in FLOAT_QUANTS else 0.0) / bw + kv / bw,
                "quant_s": (0.0 if r["quant"] in FLOAT_QUANTS else weights) / bw,
                "seconds_per_token": 1.0 / r["tokens_per_s"],
                "tokens_per_s": r["tokens_per_s"],
            }
        )
    return pl.DataFrame(rows)


FLOAT_QUANTS = frozenset({"F32", "F16", "BF16"})


def _fit(rows: pl.DataFrame, speed_class: str) -> ClassCalibration:
    """Least squares on relative error: seconds = o x layers + m x (gpus - 1) + float_s / e_f + quant_s / e_q."""
    n_layers = rows["n_layers"].to_numpy().astype(float)
    extra_gpus = (rows["n_gpus"].to_numpy() - 1).astype(float)
    x = np.column_stack([n_layers, extra_gpus, rows["float_s"].to_numpy(), rows["quant_s"].to_numpy()])
    y = rows["seconds_per_token"].to_numpy()
    keep = [i for i in range(x.shape[1]) if np.any(x[:, i] > 0)]
    w = 1.0 / y
    coef = np.zeros(x.shape[1])
    sol, *_ = np.linalg.lstsq(x[:, keep] * w[:, None], y * w, rcond=None)
    coef[keep] = sol
    # a negative overhead or a bandwidth use above 1 has no physical meaning: refit without that term
    if coef[0] < 0 or coef[1] < 0:
        keep = [i for i in keep if coef[i] >= 0 or i >= 2]
        coef[:] = 0
        sol, *_ = np.linalg.lstsq(x[:, keep] * w[:, None], y * w, rcond=None)
        coef[keep] = sol
    e_float = 1.0 / coef[2] if coef[2] > 0 else math.nan
    e_quant = 1.0 / coef[3] if coef[3] > 0 else math.nan
    devices_used = rows["device_label"].n_unique()
    return ClassCalibration(
        speed_class=speed_class,
        bandwidth_use_float=float(min(e_float, 1.0)),
        bandwidth_use_quant=float(min(e_quant, 1.0)),
        overhead_s_per_layer=float(coef[0]),
        overhead_s_per_extra_gpu=float(coef[1]),
        n_rows=rows.height,
        basis=f"fitted to {rows.height} llama-bench runs on {devices_used} configurations",
    )


@cache
def calibration() -> dict[str, ClassCalibration]:
    """The fitted parameters per device class (GDDR/HBM GPUs and Apple from llama-bench; CPUs from one run each)."""
    rows = _bench_rows()
    out = {c: _fit(rows.filter(pl.col("speed_class") == c), c) for c in ("gpu_gddr", "gpu_hbm", "apple_metal")}
    for name, (run, ram) in CPU_REFERENCE_RUNS.items():
        out[name] = _cpu_calibration(name, run, ram, out["gpu_gddr"])
    return out


def _cpu_calibration(name: str, run: int, ram_device: str, gpu: ClassCalibration) -> ClassCalibration:
    """CPU bandwidth use from one measured run; the float/quant ratio as on GDDR GPUs; no per-layer overhead."""
    speed = data.load_table("speed").filter((pl.col("run_id") == run) & (pl.col("quant") == CPU_REFERENCE_QUANT))
    ram = get_device(ram_device).memory_bandwidth_gb_per_s * GB
    tokens_per_s = float(speed["tokens_per_s"][0])
    lb = layer_bytes(LLAMA_7B.resolved(), CPU_REFERENCE_QUANT)
    weights = sum(lb.dense) + lb.output + lb.embedding_row
    # the run's type streams at type_factor x the Q4_K_M-equivalent bandwidth use this class is described by
    bandwidth_use = min(1.0, tokens_per_s * weights / ram / type_factor(CPU_REFERENCE_QUANT, "CPU")[0])
    ratio = gpu.bandwidth_use_float / gpu.bandwidth_use_quant if gpu.bandwidth_use_quant > 0 else 1.0
    return ClassCalibration(
        speed_class=name,
        bandwidth_use_float=min(1.0, bandwidth_use * ratio),
        bandwidth_use_quant=bandwidth_use,
        overhead_s_per_layer=0.0,
        overhead_s_per_extra_gpu=0.0,
        n_rows=1,
        basis=(
            f"CPU bandwidth use {bandwidth_use:.2f} from one run ({speed['hardware'][0]}, LLaMA 7B "
            f"{CPU_REFERENCE_QUANT}, {tokens_per_s:g} tokens/s, {speed['source'][0]}) against {ram_device} "
            "bandwidth: not validated"
        ),
    )


@cache
def _type_factors() -> dict[tuple[str, str], tuple[float, str]]:
    """Per (quant, backend): the measured bandwidth use relative to the calibrated k-quant reference.

    ``data/speed.csv`` runs compare types on one machine (tokens/s x bits per weight, relative to the best type
    in the run). Relative to Q4_K_M where it was measured on that backend, else to the run's best type.
    """
    bs = backend_speed()
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for backend in ("CUDA", "Metal", "CPU"):
        b = bs.filter(pl.col("backend") == backend)
        eff = dict(zip(b["quant"], b["bandwidth_use"], strict=True))
        evidence = dict(zip(b["quant"], b["evidence"], strict=True))
        ref = eff.get("Q4_K_M", 1.0)
        for q, e in eff.items():
            out[(q, backend)] = (e / ref, f"measured on {backend}: {evidence[q]}")
    return out


@cache
def _family_of() -> dict[str, str]:
    qt = data.load_table("quant_types")
    return dict(zip(qt["quant"], qt["family"], strict=True))


@cache
def _generic_bandwidth_use() -> dict[str, float]:
    """Per type: tokens/s x file bits per weight relative to Q4_K_M, all types measured in one run on Llama-3.1-8B
    (``data/llama31_8b_files.csv``, llama.cpp tools/quantize/README.md, PR #14905; hardware not stated)."""
    f = data.load_table("llama31_8b_files")
    bits = dict(zip(f["quant"], f["generation_tokens_per_s"] * f["file_bits_per_weight"], strict=True))
    ref = bits["Q4_K_M"]
    return {q: b / ref for q, b in bits.items()}


@lru_cache(maxsize=1024)
def type_factor(quant: str, backend: str) -> tuple[float, str]:
    """How fast ``quant``'s kernels stream relative to Q4_K_M on ``backend``, and the evidence.

    In order of preference:

    1. measured for the type on that backend (``data/speed.csv``);
    2. a measured type of the same family on that backend (the nearest in bits per weight), scaled by the two
       types' ratio in the one-run table of all types (PR #14905, hardware not stated);
    3. the one-run table alone (relative to Q4_K_M);
    4. 1 (no evidence: as fast as Q4_K_M).
    """
    if quant in FLOAT_QUANTS:
        return 1.0, "float weights (calibrated separately)"
    factors = _type_factors()
    if (quant, backend) in factors:
        return factors[(quant, backend)]
    family = _family_of().get(quant)
    generic = _generic_bandwidth_use()
    bpw = dict(zip(*_bits_per_weight(), strict=True))
    same = [q for (q, b) in factors if b == backend and _family_of().get(q) == family and q in generic]
    if quant in generic and same and quant in bpw:
        anchor = min(same, key=lambda q: abs(bpw.get(q, 0.0) - bpw[quant]))
        factor = factors[(anchor, backend)][0] * generic[quant] / generic[anchor]
        return factor, (
            f"{anchor} measured on {backend} (x{factors[(anchor, backend)][0]:.2f}) scaled by {quant}/{anchor} "
            f"= {generic[quant] / generic[anchor]:.2f} in the one-run table of all types "
            "(PR #14905, hardware not stated)"
        )
    if quant in generic:
        return generic[quant], "one-run table of all types (PR #14905, hardware not stated); none on " + backend
    return 1.0, f"no per-type measurement on {backend}"


@cache
def _bits_per_weight() -> tuple[list[str], list[float]]:
    qt = data.load_table("quant_types")
    return qt["quant"].to_list(), qt["nominal_bits_per_weight"].to_list()


# ---------------------------------------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class SpeedEstimate:
    """Expected token-generation speed of one model/quant on one device, with the placement behind it."""

    model: str
    quant: str
    device: str
    n_gpus: int
    context: int
    kv_cache: str
    generation_tokens_per_s: float | None  # None when the device's bandwidth is unknown
    gpu_layers: int  # layers on the GPU (llama.cpp -ngl; all layers when the model fits)
    n_layers: int
    cpu_moe_layers: int  # layers whose routed experts stay in system RAM (--n-cpu-moe), 0 if none
    placement: str  # "all on the GPU", "-ngl N", "--n-cpu-moe N", "CPU only", "does not fit"
    fits: bool  # the model fits the GPU budget with all its layers
    gpu_memory_gib: float  # what the placement puts in GPU memory
    budget_gib: float  # the device's budget (before headroom)
    bytes_per_token_gpu: float
    bytes_per_token_cpu: float
    basis: str

    @property
    def offloaded(self) -> bool:
        """Part of the model runs from system RAM."""
        return self.placement.startswith(("-ngl", "--n-cpu-moe"))

    def summary(self) -> str:
        """E.g. "62 of 80 layers on the GPU, ~4.1 tokens/s"."""
        speed = (
            "tokens/s unknown (no bandwidth)"
            if self.generation_tokens_per_s is None
            else f"~{self.generation_tokens_per_s:.3g} tokens/s"
        )
        if self.placement == "CPU only":
            return f"CPU only, {speed}"
        if self.placement == "does not fit":
            return "does not fit"
        if self.placement.startswith("--n-cpu-moe"):
            return f"all {self.n_layers} layers on the GPU, experts of {self.cpu_moe_layers} in RAM, {speed}"
        return f"{self.gpu_layers} of {self.n_layers} layers on the GPU, {speed}"


def _seconds_per_token(
    cal_gpu: ClassCalibration,
    cal_cpu: ClassCalibration,
    quant: str,
    backend_gpu: str,
    bw_gpu: float,
    bw_cpu: float,
    gpu_weights: float,
    gpu_kv: float,
    cpu_weights: float,
    cpu_kv: float,
    n_layers: int,
    n_gpus: int,
) -> float:
    floating = quant in FLOAT_QUANTS
    factor_gpu, _ = type_factor(quant, backend_gpu)
    factor_cpu, _ = type_factor(quant, "CPU")
    e_gpu = cal_gpu.bandwidth_use_float if floating else min(1.0, cal_gpu.bandwidth_use_quant * factor_gpu)
    e_cpu = cal_cpu.bandwidth_use_float if floating else min(1.0, cal_cpu.bandwidth_use_quant * factor_cpu)
    seconds = cal_gpu.overhead_s_per_layer * n_layers + cal_gpu.overhead_s_per_extra_gpu * (n_gpus - 1)
    if gpu_weights or gpu_kv:
        seconds += gpu_weights / (e_gpu * bw_gpu) + gpu_kv / (cal_gpu.bandwidth_use_float * bw_gpu)
    if cpu_weights or cpu_kv:
        seconds += cpu_weights / (e_cpu * bw_cpu) + cpu_kv / (cal_cpu.bandwidth_use_float * bw_cpu)
    return seconds


def estimate_speed(
    model: ModelSpec | str,
    quant: str,
    device: str = DEFAULT_DEVICE,
    context: int = 4096,
    kv_cache: str = "f16",
    *,
    n_gpus: int = 1,
    memory_gb: float | None = None,
    bandwidth_gb_per_s: float | None = None,
    backend: str = "CUDA",
    metal_wired_limit_mb: float | None = None,
    host_memory: str = DEFAULT_HOST_MEMORY,
) -> SpeedEstimate:
    """Expected token generation speed of ``model`` at ``quant`` on ``device``, and the layers on the GPU.

    Parameters
    ----------
    model
        A :class:`~dashboard.memory.ModelSpec` or a catalog model name.
    quant
        A llama-quantize type (``"Q4_K_M"``).
    device
        A name from :func:`device_names`, or ``"custom"`` (then ``memory_gb`` and ``bandwidth_gb_per_s`` describe
        it and ``backend`` picks its class).
    context
        Context length in tokens; the speed is the one with the context full (the KV cache read per token grows
        with it; an empty context is faster).
    kv_cache
        KV-cache type (f16, q8_0, q4_0).
    n_gpus
        Identical cards (memory adds up; llama.cpp splits the layers across them).
    memory_gb
        Memory per card, or the installed unified memory / RAM, overriding the catalog.
    metal_wired_limit_mb
        Apple: a raised ``iogpu.wired_limit_mb`` (MiB) instead of the default working set.
    host_memory
        The system RAM kind (a ``cpu_ram`` device name) for layers that do not fit on the GPU.
    """
    spec = resolve_model(model).resolved()
    if device == CUSTOM_DEVICE:
        dev = custom_device(memory_gb, bandwidth_gb_per_s, backend)
    else:
        dev = get_device(device)
        if bandwidth_gb_per_s is not None:
            raise ValueError("bandwidth_gb_per_s is only for the custom device")
    if context < 1:
        raise ValueError(f"context must be at least 1 token, got {context}")
    budget = memory_budget(dev, n_gpus=n_gpus, memory_gb=memory_gb, metal_wired_limit_mb=metal_wired_limit_mb)
    cal = calibration()
    cal_gpu = cal[dev.speed_class]
    host = dev if dev.is_apple or dev.is_cpu else get_device(host_memory)
    cal_cpu = cal["apple_cpu"] if dev.is_apple else cal["cpu_ram"]
    bw_gpu = dev.memory_bandwidth_gb_per_s * GB
    bw_cpu = host.memory_bandwidth_gb_per_s * GB
    lb = layer_bytes(spec, quant)
    n = spec.n_layers
    kv_layer_alloc = kv_cache_bytes(spec, context, kv_cache) / n
    kv_layer_read = _kv_bytes_per_layer(spec, context, kv_cache)
    fixed = compute_buffer_bytes(spec, context, kv_cache=kv_cache) + output_buffer_bytes(spec)
    budget_bytes = budget.budget_gib * GIB
    usable = budget_bytes - headroom_gib(budget.budget_gib) * GIB
    share = lb.expert_share
    layer_read = [d + e * share for d, e in zip(lb.dense, lb.experts, strict=True)]
    layer_alloc = [d + e + kv_layer_alloc for d, e in zip(lb.dense, lb.experts, strict=True)]
    # everything, as the memory model counts it (file incl. embedding and metadata, KV cache, buffers): the same
    # total the recommender fits against the budget, so "fits" here and there agree
    whole = memory_estimate(spec, quant, context, kv_cache).total_gib * GIB

    def speed(gpu_w: float, gpu_kv: float, cpu_w: float, cpu_kv: float) -> float | None:
        if not math.isfinite(bw_gpu) or bw_gpu <= 0:
            return None
        gpus = budget.n_gpus if gpu_w else 1
        s = _seconds_per_token(
            cal_gpu, cal_cpu, quant, dev.backend, bw_gpu, bw_cpu, gpu_w, gpu_kv, cpu_w, cpu_kv, n, gpus
        )
        return 1.0 / s

    factor, factor_basis = type_factor(quant, dev.backend)
    error = validation_summary(dev.speed_class if dev.speed_class != "cpu_ram" else None)
    basis_parts = [
        f"{SPEED_CLASS_LABEL[dev.speed_class]}: {cal_gpu.basis}",
        f"bytes per token from the {quant} tensor mix"
        + (f", {spec.n_experts_used} of {spec.n_experts} experts active" if spec.n_experts > 1 else "")
        + f", KV cache at {context} tokens",
    ]
    if quant not in FLOAT_QUANTS and quant != "Q4_K_M":
        basis_parts.append(f"{quant} vs Q4_K_M: x{factor:.2f} ({factor_basis})")
    if dev.speed_class != "cpu_ram":
        basis_parts.append(
            f"error on held-out {SPEED_CLASS_LABEL[dev.speed_class]} configurations: median "
            f"{error['median_abs_pct_error']:.0f}%, worst {error['worst_abs_pct_error']:.0f}%"
        )

    common = {
        "model": spec.name,
        "quant": quant,
        "device": dev.name,
        "n_gpus": budget.n_gpus,
        "context": context,
        "kv_cache": kv_cache,
        "n_layers": n,
        "budget_gib": budget.budget_gib,
    }
    if dev.is_cpu:
        w = sum(layer_read) + lb.output + lb.embedding_row
        tps = None
        if math.isfinite(bw_gpu) and bw_gpu > 0:
            tps = 1.0 / _seconds_per_token(
                cal_cpu, cal_cpu, quant, "CPU", bw_cpu, bw_cpu, 0, 0, w, kv_layer_read * n, n, 1
            )
        return SpeedEstimate(
            **common,
            generation_tokens_per_s=tps,
            gpu_layers=0,
            cpu_moe_layers=0,
            placement="CPU only" if whole <= budget_bytes else "does not fit",
            fits=whole <= budget_bytes,
            gpu_memory_gib=0.0,
            bytes_per_token_gpu=0.0,
            bytes_per_token_cpu=w + kv_layer_read * n,
            basis="; ".join([f"CPU: {cal_cpu.basis}", *basis_parts[1:]]),
        )

    if whole <= budget_bytes:
        w = sum(layer_read) + lb.output + lb.embedding_row
        return SpeedEstimate(
            **common,
            generation_tokens_per_s=speed(w, kv_layer_read * n, 0.0, 0.0),
            gpu_layers=n,
            cpu_moe_layers=0,
            placement="all on the GPU",
            fits=True,
            gpu_memory_gib=whole / GIB,
            bytes_per_token_gpu=w + kv_layer_read * n,
            bytes_per_token_cpu=0.0,
            basis="; ".join(basis_parts),
        )

    # -ngl N: llama.cpp puts the last N layers on the GPU; the output layer stays in RAM unless all layers fit.
    used, n_gpu = fixed, 0
    for i in range(n - 1, -1, -1):
        if used + layer_alloc[i] > usable:
            break
        used += layer_alloc[i]
        n_gpu += 1
    gpu_read = sum(layer_read[n - n_gpu :])
    cpu_read = sum(layer_read[: n - n_gpu]) + lb.output + lb.embedding_row
    candidates = [
        (
            speed(gpu_read, kv_layer_read * n_gpu, cpu_read, kv_layer_read * (n - n_gpu)),
            n_gpu,
            0,
            f"-ngl {n_gpu}",
            used,
            (gpu_read + kv_layer_read * n_gpu, cpu_read + kv_layer_read * (n - n_gpu)),
        )
    ]
    if spec.n_experts > 1:
        # --n-cpu-moe K: every layer on the GPU except the routed experts of the first K layers.
        base = fixed + lb.output + sum(d + kv_layer_alloc for d in lb.dense)
        on_gpu = base + sum(lb.experts)
        for k in range(n + 1):
            if on_gpu <= usable:
                gpu_w = sum(lb.dense) + lb.output + lb.embedding_row + share * sum(lb.experts[k:])
                cpu_w = share * sum(lb.experts[:k])
                candidates.append(
                    (
                        speed(gpu_w, kv_layer_read * n, cpu_w, 0.0),
                        n,
                        k,
                        f"--n-cpu-moe {k}",
                        on_gpu,
                        (gpu_w + kv_layer_read * n, cpu_w),
                    )
                )
                break
            if k < n:
                on_gpu -= lb.experts[k]
    best = max(candidates, key=lambda c: (c[0] or 0.0, c[1]))
    tps, gpu_layers, cpu_moe, placement, used_bytes, (b_gpu, b_cpu) = best
    if gpu_layers == 0 and cpu_moe == 0:
        placement = "-ngl 0"
    host_note = f"layers in RAM at {host.name} bandwidth ({host.memory_bandwidth_gb_per_s:g} GB/s), {cal_cpu.basis}"
    return SpeedEstimate(
        **common,
        generation_tokens_per_s=tps,
        gpu_layers=gpu_layers,
        cpu_moe_layers=cpu_moe,
        placement=placement,
        fits=False,
        gpu_memory_gib=used_bytes / GIB,
        bytes_per_token_gpu=b_gpu,
        bytes_per_token_cpu=b_cpu,
        basis="; ".join([*basis_parts, host_note]),
    )


# ---------------------------------------------------------------------------------------------- validation


@cache
def validation() -> pl.DataFrame:
    """Leave-one-configuration-out validation: each measured device configuration predicted by a fit without it.

    One row per measured llama-bench run: measured and predicted tokens/s and the error in percent.
    """
    rows = _bench_rows()
    out = []
    for label in rows["device_label"].unique(maintain_order=True):
        held = rows.filter(pl.col("device_label") == label)
        c = held["speed_class"][0]
        train = rows.filter((pl.col("speed_class") == c) & (pl.col("device_label") != label))
        cal = _fit(train, c)
        for r in held.iter_rows(named=True):
            seconds = (
                cal.overhead_s_per_layer * r["n_layers"]
                + cal.overhead_s_per_extra_gpu * (r["n_gpus"] - 1)
                + r["float_s"] / cal.bandwidth_use_float
                + r["quant_s"] / cal.bandwidth_use_quant
            )
            predicted = 1.0 / seconds
            out.append(
                {
                    "device_label": label,
                    "speed_class": c,
                    "model": r["model"],
                    "quant": r["quant"],
                    "test": r["test"],
                    "measured_tokens_per_s": r["tokens_per_s"],
                    "predicted_tokens_per_s": predicted,
                    "error_pct": 100.0 * (predicted - r["tokens_per_s"]) / r["tokens_per_s"],
                }
            )
    return pl.DataFrame(out)


@cache
def validation_summary(speed_class: str | None = None) -> dict[str, float]:
    """Median and worst absolute held-out error (percent) over the measured runs (of one class, or all)."""
    v = validation()
    if speed_class is not None:
        v = v.filter(pl.col("speed_class") == speed_class)
    err = v["error_pct"].abs()
    return {"median_abs_pct_error": float(err.median()), "worst_abs_pct_error": float(err.max()), "n": float(err.len())}
