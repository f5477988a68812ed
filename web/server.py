"""Serves the single-page app built into ``web/dist`` (``npm run build``, which
``make up`` runs): its files, ``index.html`` for every app route, and the API
reference, Swagger UI's page in ``dist/api/docs/`` (``/api/docs``, which Traefik
routes here)."""

import logging
from pathlib import Path

import tornado.ioloop
import tornado.web

import config
from services.common.metrics import Heartbeat, Probes, serve_in_thread

log = logging.getLogger("web")

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


class AppHandler(tornado.web.StaticFileHandler):
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


def make_app(root: Path) -> tornado.web.Application:
    return tornado.web.Application(
        [(r"/(.*)", AppHandler, {"path": str(root), "default_filename": "index.html"})]
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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    conf = config.settings("web")
    root = (config.ROOT_DIR / conf["ROOT"]).resolve()
    make_app(root).listen(int(conf["PORT"]), address=conf["ADDRESS"])
    log.info("serving %s on %s:%s", root, conf["ADDRESS"], conf["PORT"])
    heartbeat = Heartbeat()
    tornado.ioloop.PeriodicCallback(heartbeat.beat, heartbeat.interval * 1000).start()
    serve_in_thread(conf["METRICS"], probes(root, heartbeat), config.ROOT_DIR)
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
