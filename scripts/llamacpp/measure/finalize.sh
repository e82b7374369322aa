#!/usr/bin/env bash
# regenerate derived files from the raw logs / csvs
ROOT=/work/llamacpp; PY=/work/main/.venv/bin/python
$PY $ROOT/scripts/rebuild_runtime_csv.py
$PY $ROOT/scripts/check_dryrun_vs_real.py
$PY $ROOT/scripts/summarize.py
