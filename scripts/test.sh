#!/usr/bin/env bash
# The Python suite as two lines of pytest processes at once: unit and interface
# tests, then the browser scenarios (against a platform of their own); and the other
# integration tests against the whole platform (which spend most of their time
# waiting on it). Each line is prefixed with its group; the run fails if any group
# does. Arguments, if any, run one pytest with them instead.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python

if [ $# -gt 0 ]; then
    exec "$PYTHON" -m pytest "$@"
fi

group() {
    local name=$1
    shift
    "$PYTHON" -m pytest "$@" 2>&1 | sed -u "s/^/[$name] /"
    return "${PIPESTATUS[0]}"
}

BROWSER=tests/integration/test_web_app.py

(
    group services tests/unit tests/interface
    services_status=$?
    group browser "$BROWSER"
    browser_status=$?
    echo "services: exit $services_status; browser: exit $browser_status"
    [ "$services_status" -eq 0 ] && [ "$browser_status" -eq 0 ]
) &
first=$!
group platform tests/integration --ignore="$BROWSER" &
platform=$!
wait "$first"
first_status=$?
wait "$platform"
platform_status=$?
echo "services and browser: exit $first_status; platform: exit $platform_status"
[ "$first_status" -eq 0 ] && [ "$platform_status" -eq 0 ]
