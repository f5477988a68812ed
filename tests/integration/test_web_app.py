"""The web app in a real browser: Debian's Chromium, driven by Playwright, against
the whole platform through Traefik at http://app.localhost:<port>/.

The scenarios are in web/e2e/*.test.js (Node's test runner); each file runs here as
a test of its own against this session's stack, and leaves screenshots of the
pages it saw in test-artifacts/browser/.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import config as settings

WEB = settings.ROOT_DIR / "web"
ARTIFACTS = settings.ROOT_DIR / "test-artifacts" / "browser"
SCENARIOS = sorted(path.name for path in (WEB / "e2e").glob("*.test.js"))
CHROMIUM = os.environ.get("EMS_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_environment(stack):
    for tool in (CHROMIUM, shutil.which("node")):
        assert tool and Path(tool).exists(), (
            f"{tool or 'node'} is missing: `scripts/setup.sh --test` installs it"
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return {
        **stack.env,
        "EMS_APP_URL": f"http://app.localhost:{stack.ports['http']}",
        "EMS_API_URL": stack.base_url,
        "EMS_ARTIFACTS": str(ARTIFACTS),
        "EMS_CHROMIUM": CHROMIUM,
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_in_a_real_browser(scenario, browser_environment, stack):
    result = subprocess.run(
        ["node", "--test", "--test-reporter=spec", f"e2e/{scenario}"],
        cwd=WEB,
        env=browser_environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{result.stdout}\n{result.stderr}\n--- the platform's logs\n{stack.report(15)}"
    )
