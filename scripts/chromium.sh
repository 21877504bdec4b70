#!/usr/bin/env bash
# Headless Chromium for the HTML report test (tests/bi/test_html_report.py): Debian's `chromium` package.
# Installs it when missing and we are root; otherwise says so and leaves the test to skip.
set -euo pipefail

for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if [ "$(id -u)" != 0 ]; then
    echo "chromium.sh: Chromium is not installed and we are not root; the HTML report test will be skipped" >&2
    exit 0
fi
echo "chromium.sh: installing Chromium (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends chromium >/dev/null; then
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends chromium >/dev/null \
        || echo "chromium.sh: apt-get install chromium failed; the HTML report test will be skipped" >&2
fi
