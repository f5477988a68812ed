"""Stand-ins for what the platform calls outside itself: an OpenAI-compatible chat
API for the support service's AI fallback, and a weather API for generation
forecasts."""

import json
import re
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import config
from harness.ports import free_port, listening


class _QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers JSON."""

    def send_json(self, body) -> None:
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class _LocalServer:
    """A threaded HTTP server on 127.0.0.1 for the test's process, serving from
    ``__enter__`` to ``__exit__``; requests held on ``released`` go when it stops."""

    def _serve(self, handler: type[_QuietHandler], port: int) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class ModelServer(_LocalServer):
    """A local OpenAI-compatible chat API, for tests of the AI fallback. It answers
    every completion with ``answer`` — a text, or a function of the last user
    message giving a text, or None for no answer at all — and keeps the requests
    it got; the first ``hang`` requests get no answer either."""

    def __init__(self, answer, hang: int = 0, port: int = 0):
        self.answer = answer
        self.hang = hang
        self.requests = []
        self.released = threading.Event()
        server = self

        class Handler(_QuietHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                content = server.content(body)
                if len(server.requests) <= server.hang or content is None:
                    server.released.wait()
                    return
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                self.send_json(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": content,
                                },
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 10,
                            "completion_tokens": 5,
                            "total_tokens": 15,
                        },
                    }
                )

        self._serve(Handler, port)

    def content(self, body: dict) -> str | None:
        if not callable(self.answer):
            return self.answer
        questions = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return self.answer(questions[-1] if questions else "")

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"


def scripted_answer(question: str) -> str | None:
    """A test model's script: it knows about solar panels, hangs when asked to, and
    hands everything else over to staff."""
    if re.search(r"\bhang\b", question, re.IGNORECASE):
        return None
    if "solar" in question.lower():
        return "Solar panels lower what your meter counts while the sun shines."
    return "HANDOFF"


class _ServerProcess:
    """A fake server in a process of its own, for a test process whose own threads
    are green (eventlet) and would not serve a whole platform. ``CODE`` serves on
    the port ``sys.argv[1]`` until the process is killed."""

    CODE = ""
    NAME = "server"

    def __enter__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(self.port)], cwd=config.ROOT_DIR
        )
        deadline = time.monotonic() + 20
        while True:
            if listening(self.port):
                return self
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the {self.NAME} did not start")
            time.sleep(0.1)

    def __exit__(self, *exc):
        self.process.kill()


class ModelServerProcess(_ServerProcess):
    """``ModelServer(scripted_answer)`` in a process of its own."""

    NAME = "model server"
    CODE = (
        "import sys, time\n"
        "from harness.fakes import ModelServer, scripted_answer\n"
        "server = ModelServer(scripted_answer, port=int(sys.argv[1]))\n"
        "with server:\n    time.sleep(10**9)"
    )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


class WeatherServerProcess(_ServerProcess):
    """``WeatherServer()`` in a process of its own."""

    NAME = "weather server"
    CODE = (
        "import sys, time\n"
        "from harness.fakes import WeatherServer\n"
        "server = WeatherServer(port=int(sys.argv[1]))\n"
        "with server:\n    time.sleep(10**9)"
    )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/forecast"


#: An answer in the shape of Open-Meteo's forecast API (``hourly=cloud_cover``,
#: ``timezone=UTC``) for Greenwich, two days of hours: written after its documented
#: response, not captured from the service.
OPEN_METEO_ANSWER = Path(__file__).parent / "fixtures" / "open_meteo_cloud_cover.json"


class WeatherServer(_LocalServer):
    """A local stand-in of Open-Meteo's forecast API that replays
    ``OPEN_METEO_ANSWER``: its cloud covers, in order and over again, dated to the
    hours asked for (``start_hour`` to ``end_hour``), so the recording answers for
    any day. ``status`` other than 200 answers that status; ``hang`` answers
    nothing until the server stops. The query of each request is kept."""

    def __init__(self, status: int = 200, hang: bool = False, port: int = 0):
        self.status = status
        self.hang = hang
        self.requests: list[dict] = []
        self.released = threading.Event()
        self.recorded = json.loads(OPEN_METEO_ANSWER.read_text())
        server = self

        class Handler(_QuietHandler):
            def do_GET(self):
                query = {
                    key: values[0]
                    for key, values in parse_qs(urlsplit(self.path).query).items()
                }
                server.requests.append(query)
                if server.hang:
                    server.released.wait()
                    return
                if server.status != 200:
                    self.send_error(server.status)
                    return
                self.send_json(server.answer(query))

        self._serve(Handler, port)

    def answer(self, query: dict) -> dict:
        first = datetime.fromisoformat(query["start_hour"])
        last = datetime.fromisoformat(query["end_hour"])
        hours = int((last - first) / timedelta(hours=1)) + 1
        covers = self.recorded["hourly"]["cloud_cover"]
        return self.recorded | {
            "latitude": float(query["latitude"]),
            "longitude": float(query["longitude"]),
            "hourly": {
                "time": [
                    (first + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M")
                    for i in range(hours)
                ],
                "cloud_cover": [covers[i % len(covers)] for i in range(hours)],
            },
        }

    @property
    def url(self) -> str:
        return f"{self.origin}/v1/forecast"
