#!/bin/bash
# What the cash-forecast backtest adds to `salesops train`, as whole processes (issue #19).
#
# usage: flock /tmp/heavy.lock benchmarks/train_backtest.sh WAREHOUSE_DIR OUT_DIR [ROUNDS] [BEFORE]
#
# WAREHOUSE_DIR holds salesops.duckdb and salesops.yml (a copy: nothing is written there but the
# readers' copy); each round runs, one after the other, `salesops train --as-of 2025-06-30` with
# the backtest and with --no-backtest, and, if BEFORE is given (a folder holding another
# commit's salesops_analysis/, e.g. from `git archive`), that commit's train with its backtest.
# Every run's wall and CPU seconds and peak RSS go to OUT_DIR/times.txt.
set -e
DATA=$(cd "$1" && pwd); OUT=$2; ROUNDS=${3:-3}; BEFORE=$4
PY=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/python
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
cd "$DATA"
run() {  # label pythonpath [options]
  local label=$1 pp=$2; shift 2
  rm -rf "$OUT/models_${label}_$i"
  env ${pp:+PYTHONPATH=$pp} /usr/bin/time \
    -f "TIME $label round=$i wall=%e user=%U sys=%S maxrss_kb=%M" \
    "$PY" -m salesops_analysis.cli train --as-of 2025-06-30 --db salesops.duckdb \
    --config salesops.yml --out "$OUT/models_${label}_$i" "$@" \
    > "$OUT/${label}_$i.out" 2> "$OUT/${label}_$i.err"
  grep TIME "$OUT/${label}_$i.err" | tee -a "$OUT/times.txt"
}
for i in $(seq 1 "$ROUNDS"); do
  if [ -n "$BEFORE" ]; then run before_with "$BEFORE"; fi
  run with ""
  run without "" --no-backtest
done
