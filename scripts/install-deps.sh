#!/usr/bin/env bash
# Installs everything slotguard needs to build and test, from Debian 12's
# packages. Idempotent: when every package is already installed (and
# btree_gist is there) it does nothing and needs no network.
# FORCE=1 runs apt-get update + install anyway.
#
# Note: installing postgresql-15 makes Debian create (and try to start) a
# system cluster "15/main" on port 5432. We never use it: every test starts
# its own throwaway cluster on a free port (test/lib/cluster.sh).
set -euo pipefail

PACKAGES=(
    postgresql-15            # server, contrib (btree_gist) and PGXS test tools
    postgresql-client-15     # psql, pgbench, pg_isolation_regress
    postgresql-server-dev-15 # pg_config, PGXS, server headers
    libboost-dev
    cmake
    g++
    make
    libgtest-dev
    gnuplot-nox              # bench/run charts
    postgresql-15-plproxy    # the slotguard_proxy scale-out package (proxy/)
    ca-certificates
    procps   # ps, used by the test scripts
    iproute2 # ss, used to find a free port
    # 1.2 components the tests start themselves (issues: pg_cron expiry,
    # exporter metrics, live demo page, client examples, poolers, package)
    postgresql-15-cron            # expire_holds() scheduled by pg_cron
    prometheus-postgres-exporter  # slotguard_* metrics from the stats view
    chromium                      # headless browser test of the live page
    pgbouncer                     # races through a transaction pooler
    nodejs                        # examples (Node, `pg` from npm; npm comes with it)
    python3-psycopg               # examples (Python)
    golang-go golang-github-jackc-pgx-v4-dev # examples (Go, GOPATH mode)
    debhelper postgresql-server-dev-all fakeroot dpkg-dev # the Debian package
)
BTREE_GIST=/usr/share/postgresql/15/extension/btree_gist.control

missing=()
for pkg in "${PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true) != installed ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 && -f $BTREE_GIST && ${FORCE:-0} != 1 ]]; then
    echo "install-deps: all ${#PACKAGES[@]} packages already installed"
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "install-deps: missing packages (${missing[*]}); run me as root" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]:-(forced)}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${PACKAGES[@]}" </dev/null

if [[ ! -f $BTREE_GIST ]]; then
    echo "install-deps: btree_gist is missing ($BTREE_GIST)" >&2
    exit 1
fi
echo "install-deps: done"
