"""The web app's server on a real Tornado server in this process: the app's files,
``index.html`` for the app's routes, and the headers that keep the token safe."""

import asyncio

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port

from web.server import make_app


def fetch_all(root, *paths):
    """GET each path from a server of ``root``: (status, headers, body) each."""

    async def main():
        listening, port = bind_unused_port()
        server = HTTPServer(make_app(root))
        server.add_sockets([listening])
        client = AsyncHTTPClient()
        answers = []
        try:
            for path in paths:
                try:
                    response = await client.fetch(f"http://127.0.0.1:{port}{path}")
                except HTTPClientError as exc:
                    response = exc.response
                answers.append((response.code, response.headers, response.body))
        finally:
            server.stop()
        return answers

    return asyncio.run(main())


@pytest.fixture
def built(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<div id=root></div>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    return tmp_path


def test_app_routes_get_the_app_and_files_get_themselves(built):
    root, route, asset = fetch_all(built, "/", "/devices/42", "/assets/index-abc123.js")
    assert root[0] == route[0] == asset[0] == 200
    assert route[2] == root[2] == b"<div id=root></div>"
    assert asset[2] == b"console.log(1)"
    assert "immutable" in asset[1]["Cache-Control"]
    assert route[1]["Cache-Control"] == "no-cache"


def test_a_missing_file_is_404_not_the_app(built):
    [(status, _, body)] = fetch_all(built, "/assets/index-gone.js")
    assert status == 404
    assert b"root" not in body


def test_every_answer_forbids_foreign_scripts_and_framing(built):
    [(_, headers, _)] = fetch_all(built, "/devices")
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"


def test_an_unbuilt_app_says_how_to_build_it(tmp_path):
    [(status, _, body)] = fetch_all(tmp_path, "/devices")
    assert status == 503
    assert b"make up" in body


def test_the_api_reference_is_a_folder_s_page(built):
    docs = built / "api" / "docs"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<div id=swagger-ui></div>")
    (docs / "docs.js").write_text("SwaggerUIBundle({})")
    page, bare, script = fetch_all(
        built, "/api/docs/", "/api/docs", "/api/docs/docs.js"
    )
    assert page[0] == 200 and page[2] == b"<div id=swagger-ui></div>"
    assert "script-src 'self'" in page[1]["Content-Security-Policy"]
    # Without its slash, it is followed to the page (its files are beside it).
    assert bare[0] == 200 and bare[2] == page[2]
    assert script[0] == 200 and script[2] == b"SwaggerUIBundle({})"


def test_health_for_traefik(built, tmp_path_factory):
    (live, _, _), (ready, _, _) = fetch_all(built, "/livez", "/readyz")
    assert (live, ready) == (200, 200)
    unbuilt = tmp_path_factory.mktemp("unbuilt")
    (live, _, _), (ready, _, body) = fetch_all(unbuilt, "/livez", "/readyz")
    assert (live, ready) == (200, 503)
    assert b"not built" in body


def test_every_answer_has_a_request_id(built):
    answers = fetch_all(built, "/", "/missing.js", "/readyz")
    ids = {headers["X-Request-Id"] for _, headers, _ in answers}
    assert len(ids) == 3
