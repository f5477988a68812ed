"""Serves the single-page app: its files, and ``index.html`` for every app route."""

import logging
from pathlib import Path

import tornado.ioloop
import tornado.web

import config as settings

log = logging.getLogger("web")


class AppHandler(tornado.web.StaticFileHandler):
    """A file of the app, or the app's ``index.html`` for a path that is a route of
    the app rather than a file (``/devices/42``)."""

    def validate_absolute_path(self, root, absolute_path):
        if not Path(absolute_path).is_file():
            absolute_path = str(Path(root, "index.html"))
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path):
        self.set_header("X-Content-Type-Options", "nosniff")
        if path.endswith(".html") or "." not in path:
            self.set_header("Cache-Control", "no-cache")


def make_app(root: Path) -> tornado.web.Application:
    return tornado.web.Application(
        [(r"/(.*)", AppHandler, {"path": str(root), "default_filename": "index.html"})]
    )


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    conf = settings.load("web")
    root = (settings.ROOT_DIR / conf["ROOT"]).resolve()
    make_app(root).listen(int(conf["PORT"]), address=conf["ADDRESS"])
    log.info("serving %s on %s:%s", root, conf["ADDRESS"], conf["PORT"])
    tornado.ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
