"""Architecture bounds (dashboard.limits): their reasons hold, and every way a model enters gets them."""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import data, limits
from dashboard.hf_config import LIMITED_FIELD, spec_from_hf_config
from dashboard.ingest import InputError, parse_measurements
from dashboard.memory import ModelSpec, estimate
from dashboard.state import CustomModel

LLAMA_8B = {
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "max_position_embeddings": 131072,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
}
SPEC_8B = dict(
    name="probe",
    params=8e9,
    n_layers=32,
    n_heads=32,
    n_kv_heads=8,
    head_dim=128,
    hidden_size=4096,
    vocab_size=128256,
    max_context=131072,
)


def test_every_bound_is_at_least_ten_times_the_largest_catalog_model() -> None:
    models = data.load_table("models")
    column = {"params": "params_stated", "params_active": "params_active_stated"}
    for field, (limit, _why) in limits.ARCHITECTURE_BOUNDS.items():
        values = models[column.get(field, field)].drop_nulls()
        assert values.len() > 0, field
        assert limit >= 10 * values.max(), f"{field}: {limit} < 10 x {values.max()}"


def test_the_catalog_passes_its_own_bounds() -> None:
    from dashboard.models import catalog

    assert len(catalog()) == data.load_table("models").height  # every catalog row still builds


# Issue 15's probes: each was accepted (or crashed in the server log) before the bounds; each now names the field.
HOSTILE_CONFIGS = [
    (
        json.dumps({**LLAMA_8B, "num_hidden_layers": 1_000_000}),
        "config.json: 'num_hidden_layers' = 1,000,000 is more than the largest supported value 1,260 "
        "(10x the 126 blocks of Llama-3.1-405B)",
    ),
    (
        json.dumps({**LLAMA_8B, "num_hidden_layers": 10**12}),
        "config.json: 'num_hidden_layers' = 1,000,000,000,000 is more than the largest supported value 1,260",
    ),
    (
        json.dumps({**LLAMA_8B, "hidden_size": 10**15}),
        "config.json: 'hidden_size' = 1e+15 is more than the largest supported value 163,840 "
        "(10x the 16,384 width of Llama-3.1-405B)",
    ),
    (
        json.dumps({**LLAMA_8B, "num_hidden_layers": "X"}).replace('"X"', "Infinity"),
        "config.json: Infinity is not a number JSON allows; give a finite number",
    ),
    (
        json.dumps({**LLAMA_8B, "vocab_size": "X"}).replace('"X"', "1e400"),
        "config.json: the number 1e400 is too large to represent; give a smaller number",
    ),
    ("[" * 2400 + "]" * 2400, "config.json: the JSON is nested too deeply to read"),
    ('{"a": ' * 2400 + "1" + "}" * 2400, "config.json: the JSON is nested too deeply to read"),
    (
        json.dumps({**LLAMA_8B, "model_type": "mixtral", "num_local_experts": 100_000, "num_experts_per_tok": 2}),
        "'num_local_experts' = 100,000 is more than the largest supported value 2,560",
    ),
    (
        json.dumps(
            {**LLAMA_8B, "num_hidden_layers": 1260, "intermediate_size": 532_480, "hidden_size": 163_840}
            | {"num_attention_heads": 128, "num_key_value_heads": 8}
        ),
        "is more than the largest supported value 6.71e+12 (10x the 671 B parameters of DeepSeek-V3)",
    ),
    (json.dumps({**LLAMA_8B, "max_position_embeddings": 10**9}), "'max_position_embeddings' = 1,000,000,000"),
]


@pytest.mark.parametrize(("text", "message"), HOSTILE_CONFIGS, ids=[m[:50] for _, m in HOSTILE_CONFIGS])
def test_hostile_config_json_is_refused_with_a_message_naming_the_field(text: str, message: str) -> None:
    start = time.process_time()
    with pytest.raises(InputError) as info:
        spec_from_hf_config(text)
    assert message in str(info.value)
    assert time.process_time() - start < 2  # refused before any work is done on the size (was 18 s to 60 s)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_layers", 1_000_000, "n_layers = 1,000,000 is more than the largest supported value 1,260"),
        ("hidden_size", 10**15, "hidden_size = 1e+15 is more than"),
        ("vocab_size", math.inf, "vocab_size must be a finite number"),
        ("params", 1e15, "the parameter count = 1e+15 is more than"),
        ("max_context", 10**8, "max_context = 100,000,000 is more than the largest supported value 1,310,720"),
    ],
)
def test_model_spec_applies_the_same_bounds(field: str, value: object, message: str) -> None:
    # a GGUF header, the catalog and the custom card all end in a ModelSpec: the bound lives in its validation
    with pytest.raises(InputError, match=message.replace("+", r"\+")):
        ModelSpec(**{**SPEC_8B, field: value})


def test_custom_card_fields_have_the_same_upper_bounds() -> None:
    card = CustomModel.param
    assert card.n_layers.bounds[1] == limits.MAX_LAYERS
    assert card.hidden_size.bounds[1] == limits.MAX_HIDDEN_SIZE
    assert card.n_heads.bounds[1] == card.n_kv_heads.bounds[1] == limits.MAX_HEADS
    assert card.head_dim.bounds[1] == limits.MAX_HEAD_DIM
    assert card.vocab_size.bounds[1] == limits.MAX_VOCAB_SIZE
    assert card.max_context.bounds[1] == limits.MAX_CONTEXT_TOKENS
    assert card.params_b.bounds[1] * 1e9 == pytest.approx(limits.MAX_PARAMS)
    with pytest.raises(ValueError, match="n_layers"):
        CustomModel(n_layers=1_000_000)


def test_the_largest_allowed_architecture_stays_cheap() -> None:
    # every dimension that drives the work at its bound: 1,260 layers, 2,560 experts, 2.56 M vocabulary
    config = {
        **LLAMA_8B,
        "model_type": "mixtral",  # experts need an MoE architecture
        "num_hidden_layers": limits.MAX_LAYERS,
        "num_key_value_heads": 32,
        "intermediate_size": 128,
        "vocab_size": limits.MAX_VOCAB_SIZE,
        "max_position_embeddings": limits.MAX_CONTEXT_TOKENS,
        "num_local_experts": limits.MAX_EXPERTS,
        "num_experts_per_tok": 8,
    }
    start = time.process_time()
    spec = spec_from_hf_config(json.dumps(config))
    e = estimate(spec, "Q4_K_M", 1_048_576)
    assert e.total_gib > 0 and spec.params <= limits.MAX_PARAMS
    assert time.process_time() - start < 5


CONFIG_VALUES = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*LIMITED_FIELD, "tie_word_embeddings", "text_config"]), CONFIG_VALUES))
def test_fuzz_config_json_raises_only_input_error(changes: dict) -> None:
    text = json.dumps({**LLAMA_8B, **changes})  # NaN and Infinity written as JSON's non-standard literals
    try:
        spec = spec_from_hf_config(text)
    except InputError:
        return
    assert 1 <= spec.n_layers <= limits.MAX_LAYERS and spec.params <= limits.MAX_PARAMS


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE-+ntrufalsINfiy ', max_size=200))
def test_fuzz_config_json_text_raises_only_input_error(text: str) -> None:
    try:
        spec_from_hf_config(text)
    except InputError:
        pass


def _best_time_s(text: str, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()  # CPU time: other processes on a shared machine do not count
        with pytest.raises(InputError):
            parse_measurements(text)
        best = min(best, time.process_time() - start)
    return best


@pytest.mark.parametrize(
    "shape",
    [
        lambda n: "Final estimate: PPL = " + "1" * (n - 22),  # issue 15's slowest shape: 4.4 s at 16,000 chars
        lambda n: ("Final estimate: PPL = " + "1" * 200 + "\n") * (n // 223),
        lambda n: "====== KL divergence statistics ======\n" + ("Mean    KLD:   " + "1" * 900 + "x\n") * (n // 917),
        lambda n: "Final estimate: PPL = 6.1 +/- 0.1\n" + ("file type = a" + " " * 900 + "b\n") * (n // 916),
    ],
    ids=["final-estimate-digits", "final-estimate-lines", "kld-digits", "file-type-spaces"],
)
def test_parse_time_is_linear_in_the_input(shape) -> None:
    small, large = shape(50_000), shape(5_000_000)
    assert len(large) <= 5_000_000
    ratio = _best_time_s(large, 3) / _best_time_s(small, 9)
    # Linear: 100x the input costs about 100x the time (measured 80x to 120x on a quiet machine); quadratic would
    # cost 10,000x. The bound allows 20x per byte for memory-cache effects on a busy shared machine.
    assert ratio < 2_000, f"5 MB took {ratio:.0f}x the time of 50 KB"


# Unbounded caches may only be keyed by the project's own fixed names (a table, a priority, a speed class, a
# tokenizer family named in the code).
FIXED_KEYS = {"name", "folder", "priority", "speed_class", "tokenizer_family"}


def test_every_cache_keyed_by_user_input_is_bounded() -> None:
    import importlib
    import inspect
    import pkgutil

    import dashboard

    checked = 0
    for info in pkgutil.iter_modules(dashboard.__path__):
        module = importlib.import_module(f"dashboard.{info.name}")
        if info.name in ("app",) or info.ispkg:
            continue
        for name, obj in vars(module).items():
            if not hasattr(obj, "cache_parameters") or getattr(obj, "__module__", "") != module.__name__:
                continue
            checked += 1
            params = set(inspect.signature(obj).parameters)
            if obj.cache_parameters()["maxsize"] is None:
                assert params <= FIXED_KEYS, f"dashboard.{info.name}.{name} caches {params} without a bound"
    assert checked >= 10


def test_deep_architectures_have_a_small_cache_of_their_own() -> None:
    from dashboard import architecture

    for i in range(architecture.DEEP_ARCHITECTURE_CACHE_SIZE + 3):
        spec = ModelSpec(**{**SPEC_8B, "name": f"deep{i}", "n_layers": 1000 + i, "params": 1e12})
        architecture.tensors(spec)
    assert architecture._deep_tensors.cache_info().currsize == architecture.DEEP_ARCHITECTURE_CACHE_SIZE
    assert architecture._tensors_cached.cache_info().maxsize == architecture.ARCHITECTURE_CACHE_SIZE
