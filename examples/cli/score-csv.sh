#!/usr/bin/env bash
# score-csv.sh: score a CSV file with model.py through the pyudf CLI (run from the repository root).
set -euo pipefail
printf 'a,b\n1,10\n2,20\n3,30\n' > /tmp/pyudf-example.csv
npm run --silent pyudf -- apply examples/cli/model.py -i /tmp/pyudf-example.csv -o /tmp/pyudf-scored.csv \
  --conf weights='[0.5,2]' --workers 1 --no-progress
cat /tmp/pyudf-scored.csv   # score: 20.5, 41, 61.5
