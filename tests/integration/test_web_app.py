"""The web app in a real browser: Debian's Chromium, driven by Playwright, against
the whole platform through Traefik at http://app.localhost:<port>/.

The scenarios are in web/e2e/*.test.js (Node's test runner); each file runs here as
a test of its own against this session's stack, and leaves screenshots of the
pages it saw in test-artifacts/browser/. A scenario that needs a process of the
platform to die and come back asks for it at EMS_TEST_CONTROL_URL
(``POST /processes/<name>/kill`` and ``…/start``); one that needs a process with
other settings asks ``POST /processes/<name>/reconfigure`` with
``{"environment": {…}}`` (the process is restarted as it was afterwards).
"""

import json
import os
import shutil
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import config

WEB = config.ROOT_DIR / "web"
ARTIFACTS = config.ROOT_DIR / "test-artifacts" / "browser"
SCENARIOS = sorted(path.name for path in (WEB / "e2e").glob("*.test.js"))
CHROMIUM = os.environ.get("EMS_CHROMIUM", "/usr/bin/chromium")


class Control(ThreadingHTTPServer):
    """Kills, starts and reconfigures the stack's processes for a scenario; what
    it killed and the scenario did not start again is started by ``restore()``,
    and what it reconfigured is restarted as it was."""

    def __init__(self, stack):
        self.stack = stack
        self.down: set[str] = set()
        self.reconfigured: set[str] = set()
        super().__init__(("127.0.0.1", 0), ControlHandler)

    def reconfigure(self, name: str, environment: dict[str, str]) -> None:
        self.stack.kill(name, signal.SIGTERM)
        self.stack.start_process(name, self.stack.commands[name], environment)
        self.reconfigured.add(name)

    def restore(self) -> None:
        for name in sorted(self.down):
            self.stack.start_process(name)
        self.down.clear()
        for name in sorted(self.reconfigured):
            self.stack.kill(name, signal.SIGTERM)
            self.stack.start_process(name, self.stack.commands[name], {})
        self.reconfigured.clear()


class ControlHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        control = self.server
        parts = self.path.strip("/").split("/")
        known = len(parts) == 3 and parts[0] == "processes"
        if not known or parts[1] not in control.stack.commands:
            self.send_error(404)
            return
        name, action = parts[1], parts[2]
        if action == "reconfigure":
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            environment = body.get("environment") or {}
            control.reconfigure(name, {str(k): str(v) for k, v in environment.items()})
        elif action == "kill" and name not in control.down:
            control.stack.kill(name)
            control.down.add(name)
        elif action == "start" and name in control.down:
            control.stack.start_process(name)
            control.down.discard(name)
        elif action not in ("kill", "start", "reconfigure"):
            self.send_error(404)
            return
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def control(stack):
    server = Control(stack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.restore()


@pytest.fixture(scope="module")
def browser_environment(stack, control):
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
        "EMS_TEST_CONTROL_URL": f"http://127.0.0.1:{control.server_address[1]}",
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_in_a_real_browser(scenario, browser_environment, stack, control):
    try:
        result = subprocess.run(
            ["node", "--test", "--test-reporter=spec", f"e2e/{scenario}"],
            cwd=WEB,
            env=browser_environment,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        control.restore()
    assert result.returncode == 0, (
        f"{result.stdout}\n{result.stderr}\n--- the platform's logs\n{stack.report(15)}"
    )
