#!/usr/bin/env bash
# score-csv.sh: score a CSV file with model.py (beside this script) through the pyudf CLI.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT
printf 'a,b\n1,10\n2,20\n3,30\n' > "$work/example.csv"
npx pyudf apply model.py -i "$work/example.csv" -o "$work/scored.csv" --conf weights='[0.5,2]' --workers 1 --no-progress
cat "$work/scored.csv"   # score: 20.5, 41, 61.5
