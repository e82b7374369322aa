"""Server memory after many distinct pasted architectures: what the bounded caches keep (issue 15).

    .venv/bin/python scripts/measure_cache_memory.py [--count 500] [--layers 32]

Pastes ``count`` distinct config.json files into one session's state (as the "Use this model" button does) and
prints the process's resident memory above its start after 1, 100, ... of them.
"""

from __future__ import annotations

import argparse
import gc
import json
from pathlib import Path

from dashboard.hf_config import spec_from_hf_config
from dashboard.state import Explorer


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--layers", type=int, default=32, help="layers of each pasted model (1,260 at most)")
    args = parser.parse_args()
    explorer = Explorer()
    start = rss_mib()
    for i in range(args.count):
        config = {
            "_name_or_path": f"pasted-{i}",
            "hidden_size": 2048 + 64 * (i % 50),
            "intermediate_size": 8192 + 256 * i,
            "num_attention_heads": 32,
            "num_hidden_layers": args.layers - (i % 7),
            "num_key_value_heads": 8,
            "vocab_size": 128256,
        }
        explorer.constraints.use_config_spec(spec_from_hf_config(json.dumps(config)))
        if explorer.error:
            raise SystemExit(explorer.error)
        if i + 1 in (1, 10, 50, 100, 200, 300, 400, 500) or i + 1 == args.count:
            gc.collect()
            print(f"{i + 1} architectures ({args.layers} layers): +{rss_mib() - start:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
