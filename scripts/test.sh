#!/usr/bin/env bash
# The Python suite as two pytest processes at once: unit and interface tests, and
# the integration tests against the whole platform (which spend most of their time
# waiting on it). Each line is prefixed with its group; the run fails if either
# group does. Arguments, if any, run one pytest with them instead.
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

# Each group names its slowest tests at the end, to show where the time goes.
group services tests/unit tests/interface --durations=15 &
services=$!
group platform tests/integration --durations=25 &
platform=$!
wait "$services"
services_status=$?
wait "$platform"
platform_status=$?
echo "services: exit $services_status; platform: exit $platform_status"
[ "$services_status" -eq 0 ] && [ "$platform_status" -eq 0 ]
