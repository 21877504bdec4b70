#!/usr/bin/env bash
# The readers the BI tests open the published warehouse with, cached under .venv/bi-readers/ (from PyPI):
#   duckdb-cli-<CLI>/bin/duckdb   the DuckDB command line (pip package `duckdb-cli`)
#   duckdb-<OLD>/                 an older DuckDB Python package, what older BI drivers embed
# Prints `cli=<path>` and `old=<version> <path>` for the tests; a failed download is reported and left to the
# tests to skip, never fatal here.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
CLI_VERSION=${BI_DUCKDB_CLI_VERSION:-1.4.4}
OLD_VERSION=${BI_OLD_DUCKDB_VERSION:-1.1.3}
DIR=.venv/bi-readers

install() {  # install SPEC into TARGET unless MARKER exists
    local spec=$1 target=$2 marker=$3
    [ -e "$marker" ] && return 0
    rm -rf "$target"
    if ! "$PYTHON" -m pip install -q --disable-pip-version-check --no-deps --target "$target" "$spec" >&2; then
        echo "bi_readers.sh: could not install $spec; the tests that need it will be skipped" >&2
        rm -rf "$target"
        return 1
    fi
}

cli="$DIR/duckdb-cli-$CLI_VERSION/bin/duckdb"
if install "duckdb-cli==$CLI_VERSION" "$DIR/duckdb-cli-$CLI_VERSION" "$cli"; then
    chmod +x "$cli"  # the wheel ships the binary without its executable bit
    echo "cli=$PWD/$cli"
fi
old="$DIR/duckdb-$OLD_VERSION"
if install "duckdb==$OLD_VERSION" "$old" "$old/duckdb/__init__.py"; then
    echo "old=$OLD_VERSION $PWD/$old"
fi
exit 0
