#!/usr/bin/env bash
# The Python half of `make test`: the whole suite on SQLite, then on PostgreSQL.
# PostgreSQL runs when reachable at CIVICGRID_TEST_POSTGRES_URL; with CIVICGRID_TEST_REQUIRE_POSTGRES=1
# (CI) an unreachable server is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
RUN="${UV:-$(command -v uv || echo .tools/bin/uv)} run --frozen"
status=0

echo "== pytest on SQLite"
CIVICGRID_TEST_DATABASE=sqlite $RUN pytest -n 2 --dist loadgroup "$@" || status=1

pg_url="${CIVICGRID_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/civicgrid_test}"
if $RUN python -m civicgrid.core.pgcheck "$pg_url"; then
  echo "== pytest on PostgreSQL"
  CIVICGRID_TEST_DATABASE=postgres CIVICGRID_TEST_POSTGRES_URL="$pg_url" \
    $RUN pytest -n 2 --dist loadgroup -m "not e2e" "$@" || status=1
elif [ "${CIVICGRID_TEST_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required (CIVICGRID_TEST_REQUIRE_POSTGRES=1) but not reachable at ${pg_url%%@*}@…" >&2
  status=1
else
  echo "== PostgreSQL not reachable: its half of the suite was not run (set CIVICGRID_TEST_POSTGRES_URL)"
fi
exit $status
