"""The framework's ceiling for ``bench_forwardauth.py``: a Nameko service with one
HTTP route that answers a fixed body, nothing else (no token, no RPC, no database).

    python benchmarks/bare_nameko.py <port> <body file>
"""

import eventlet

eventlet.monkey_patch()

import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

PATH = "/bench-bare/api/devices"


def service(body: bytes) -> type:
    class Bare:
        name = "bench_bare"

        @http("GET", PATH)
        def devices(self, request):
            return Response(body, mimetype="application/json")

    return Bare


def main() -> None:
    port, body_file = int(sys.argv[1]), Path(sys.argv[2])
    runner = ServiceRunner({"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"})
    runner.add_service(service(body_file.read_bytes()))
    stop = eventlet.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.send())
    runner.start()
    print(f"bare Nameko route on 127.0.0.1:{port}{PATH}", flush=True)
    stop.wait()
    runner.stop()


if __name__ == "__main__":
    main()
