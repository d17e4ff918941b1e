#!/usr/bin/env bash
# deps.sh: installs, from Debian's archive, what the build, the tests and the
# demo need and this machine lacks.  As root it runs apt-get; otherwise it
# uses sudo when it can, and says what to run when it cannot.
#
#   tools/deps.sh            packages for make / make test / make demo
#   tools/deps.sh bench      also the peers the benchmarks compare against
set -euo pipefail

PKGS=(
  build-essential
  clang                                   # libFuzzer for the fuzz pass
  valgrind                                # the regression suite under memcheck
  postgresql-15
  postgresql-server-dev-15
  postgresql-contrib
  postgresql-15-cron
  postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl  # pg_prove
  nginx                                   # the HTTP front (http/)
  libnginx-mod-http-js                    # njs: http/gateway.js (token check for the rate limit, error bodies)
  mtail                                   # Prometheus metrics from nginx's access log
  gettext-base                            # envsubst renders the http/ configs
  curl
  python3                                 # tools/families.py (the rollup families' generated SQL)
  python3-aiosmtpd                        # test/alerts: a real SMTP server receives the e-mail notifications
  prometheus                              # promtool check metrics (the HTTP tests)
  chromium                                # the dashboard's browser tests (playwright-core drives it)
  faketime                                # tools/faketime.sh: the suites on every day and hour
  # make test-citus builds Citus (tools/citus.sh) with these
  libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev
)
# node and npm (npm ci installs PostgREST from http/package-lock.json): from
# Debian unless a node is already installed (e.g. from NodeSource, whose
# nodejs package bundles npm and conflicts with Debian's npm).
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
if [[ "${1:-}" == bench ]]; then
  PKGS+=(postgresql-15-tdigest libdbd-pg-perl wrk)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "deps: missing packages and no root: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian's postgresql package may create and start a system cluster on 5432;
# the project never uses it, and it is left as the package set it up.
