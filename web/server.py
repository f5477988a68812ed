"""Serves the single-page app built into ``web/dist`` (``npm run build``, which
``make up`` runs): its files, ``index.html`` for every app route, and the API
reference, Swagger UI's page in ``dist/api/docs/`` (``/api/docs``, which Traefik
routes here)."""

import logging
import logging.config
from pathlib import Path

import tornado.ioloop
import tornado.web

import config
from services.common import tracing
from services.common.metrics import Heartbeat, Probes, serve_in_thread

log = logging.getLogger("web")
access_log = logging.getLogger("tornado.access")

# The app loads nothing from elsewhere and runs no inline script: a script that
# got into a page by an injection could not run, nor send the token away.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class RequestIdMixin:
    """Answers every request with its id (``X-Request-Id``: the client's if sane,
    else a new one), as the API does."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        # Made once, though Tornado sets these again before an error page.
        if not hasattr(self, "correlation_id"):
            self.correlation_id = tracing.request_id(
                self.request.headers.get(tracing.HEADER)
            )
        self.set_header(tracing.HEADER, self.correlation_id)


class AppHandler(RequestIdMixin, tornado.web.StaticFileHandler):
    """A file of the app, a folder's ``index.html`` (``/api/docs/``; ``/api/docs``
    is redirected there), or the app's ``index.html`` for a path that is a route
    of the app rather than a file (``/devices/42``)."""

    def validate_absolute_path(self, root, absolute_path):
        if Path(absolute_path, "index.html").is_file():
            return super().validate_absolute_path(root, absolute_path)
        if not Path(absolute_path).is_file():
            if Path(absolute_path).suffix:  # a missing file, not an app route
                raise tornado.web.HTTPError(404)
            absolute_path = str(Path(root, "index.html"))
            if not Path(absolute_path).is_file():
                raise tornado.web.HTTPError(503, reason="web app not built")
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path):
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if path.startswith("assets/"):
            # Vite puts a hash of the content in these names.
            self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.set_header("Cache-Control", "no-cache")

    def write_error(self, status_code, **kwargs):
        if status_code == 503:
            self.finish(
                "The web app is not built: run `make up` (or `npm ci && npm run "
                "build` in web/).\n"
            )
        else:
            super().write_error(status_code, **kwargs)


class HealthHandler(RequestIdMixin, tornado.web.RequestHandler):
    """``/livez``: the server answers. ``/readyz``: it has the app's files to
    serve (``index.html`` is built). For Traefik's health checks; Traefik does not
    route these paths here."""

    def initialize(self, root: Path) -> None:
        self.root = root

    def get(self) -> None:
        if self.request.path == "/readyz" and not (self.root / "index.html").is_file():
            self.set_status(503)
            self.finish({"status": "unavailable", "failing": {"files": "not built"}})
        else:
            self.finish({"status": "ok"})


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log line, with the request's id on it."""
    status = handler.get_status()
    level = tracing.access_level(status)
    token = tracing.begin(getattr(handler, "correlation_id", None))
    try:
        access_log.log(
            level,
            "%d %s %.2fms",
            status,
            handler._request_summary(),
            1000.0 * handler.request.request_time(),
        )
    finally:
        tracing.end(token)


def make_app(root: Path) -> tornado.web.Application:
    return tornado.web.Application(
        [
            (r"/(?:livez|readyz)", HealthHandler, {"root": root}),
            (
                r"/(.*)",
                AppHandler,
                {"path": str(root), "default_filename": "index.html"},
            ),
        ],
        log_function=log_request,
    )


def probes(root: Path, heartbeat: Heartbeat) -> Probes:
    """Alive while the IOLoop turns; ready once the app is built."""
    checks = Probes()
    checks.live("loop", heartbeat.check)
    checks.ready(
        "app",
        lambda: None if (root / "index.html").is_file() else "web app not built",
    )
    return checks


def main() -> None:
    conf = config.settings("web")
    logging.config.dictConfig(conf["LOGGING"])
    root = (config.ROOT_DIR / conf["ROOT"]).resolve()
    make_app(root).listen(int(conf["PORT"]), address=conf["ADDRESS"])
    log.info("serving %s on %s:%s", root, conf["ADDRESS"], conf["PORT"])
    heartbeat = Heartbeat()
    tornado.ioloop.PeriodicCallback(heartbeat.beat, heartbeat.interval * 1000).start()
    serve_in_thread(conf["METRICS"], probes(root, heartbeat), config.ROOT_DIR)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
