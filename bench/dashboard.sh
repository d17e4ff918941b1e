#!/usr/bin/env bash
# bench/dashboard.sh: how fast the dashboard shows its data, against the
# running demo (make demo: 90 days of demo data, nginx + PostgREST).
# Loads /dashboard/ with the 90-day period BENCH_RUNS times (default 7) in
# Debian's chromium (playwright-core), each in a new browser context with a
# new token, so neither the browser nor nginx has anything cached, and
# prints the median first meaningful paint (summary cards and heatmap
# drawn) and the time until all views are drawn, as ratios against the
# baseline measured in the same run: the same seven API requests made from a
# page of the same origin with nothing drawn.  Not part of make test (the
# browser test reports the same paint figure).
# BENCH_SECTION=ops measures the operations section instead: 90 days as the
# operator (every tenant), against its eleven API requests alone.
set -euo pipefail
cd "$(dirname "$0")/.."
ENV=.cluster/demo-http/http.env
[[ -f "$ENV" ]] || { echo "bench/dashboard.sh: no demo running: run make demo first" >&2; exit 1; }
source "$ENV"
curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/dashboard/" || { echo "bench/dashboard.sh: the demo's nginx does not answer: run make demo" >&2; exit 1; }
[[ -d dashboard/node_modules/playwright-core ]] || (cd dashboard && npm ci --no-audit --no-fund --loglevel=error)
node bench/dashboard.mjs
