"""The one mapping from errors to the contract's error body; each request's id;
``/livez`` and ``/readyz``."""

import io
import json
import re
from types import SimpleNamespace

import eventlet
import pytest
from marshmallow import Schema, fields
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from services.common import tracing
from services.common.db import Database, Store
from services.common.errors import (
    Conflict,
    Forbidden,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from services.common.errors import (
    NotFound as EmsNotFound,
)
from services.common.http import CappedInput, JsonWsgiApp, Readiness, error_response
from services.common.metrics import REGISTRY
from services.common.schemas import load
from services.users.exceptions import EmailTaken


def body(response):
    return json.loads(response.get_data())


@pytest.mark.parametrize(
    "exc, status, code",
    [
        (ValidationFailed("bad", {"name": ["required"]}), 400, "VALIDATION_ERROR"),
        (Unauthorized(), 401, "UNAUTHORIZED"),
        (Forbidden(), 403, "FORBIDDEN"),
        (EmsNotFound(), 404, "NOT_FOUND"),
        (PayloadTooLarge(), 413, "PAYLOAD_TOO_LARGE"),
        (EmailTaken(), 409, "CONFLICT"),
        (Conflict("busy"), 409, "CONFLICT"),
        (NotFound(), 404, "NOT_FOUND"),
        (MethodNotAllowed(), 405, "METHOD_NOT_ALLOWED"),
        (UnknownService("users"), 503, "UNAVAILABLE"),
        (RemoteError("KeyError", "boom"), 500, "INTERNAL"),
        (KeyError("secret internals"), 500, "INTERNAL"),
    ],
)
def test_every_error_has_the_contract_shape(exc, status, code):
    response = error_response(exc)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert body(response)["error"] == code
    assert set(body(response)) == {"error", "message", "details"}


def test_internals_never_leak():
    assert "secret" not in body(error_response(KeyError("secret internals")))["message"]


def test_rate_limits_say_when_to_come_back():
    response = error_response(RateLimited(details={"retry_after": 42}))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "42"


def test_a_quota_s_numbers_come_back_as_numbers_after_rpc():
    # nameko turns the numbers inside an error's details into strings.
    response = error_response(
        Conflict("at most 5", details={"limit": "5", "other": "7"})
    )
    assert response.status_code == 409
    assert body(response)["details"] == {"limit": 5, "other": "7"}
    limited = error_response(RateLimited(details={"retry_after": "9", "limit": "3"}))
    assert body(limited)["details"] == {"retry_after": 9, "limit": 3}
    assert limited.headers["Retry-After"] == "9"


def test_a_request_field_named_like_a_quota_detail_keeps_its_messages():
    messages = {"limit": ["Must be between 1 and 500."]}
    response = error_response(ValidationFailed("invalid request", messages))
    assert response.status_code == 400
    assert body(response)["details"] == messages
    assert "Retry-After" not in response.headers


def test_a_domain_error_names_itself_when_given_no_message():
    assert body(error_response(EmailTaken()))["message"].startswith("An account")


class Thing(Schema):
    name = fields.String(required=True)


def test_load_reports_each_bad_field():
    with pytest.raises(ValidationFailed) as caught:
        load(Thing(), {"nmae": "typo"})
    assert caught.value.details == {
        "name": ["Missing data for required field."],
        "nmae": ["Unknown field."],
    }


def test_load_wants_an_object():
    with pytest.raises(ValidationFailed):
        load(Thing(), ["name"])


def test_capped_input_yields_up_to_the_limit():
    assert CappedInput(io.BytesIO(b"x" * 10), 10).read() == b"x" * 10
    stream = CappedInput(io.BytesIO(b"x" * 10), 10)
    assert stream.read(4) + stream.read(100) == b"x" * 10


def test_capped_input_refuses_past_the_limit_without_reading_everything():
    source = io.BytesIO(b"x" * 1000)
    with pytest.raises(PayloadTooLarge) as caught:
        CappedInput(source, 10).read()
    assert caught.value.details == {"max_bytes": 10}
    assert source.tell() == 11


class Echo:
    """A route that reads its body, as the gateway's do."""

    def handle_request(self, request: Request) -> Response:
        request.shallow = False
        try:
            return Response(request.get_data(cache=False))
        except PayloadTooLarge as exc:
            return error_response(exc)


@pytest.fixture
def app():
    server = SimpleNamespace(
        container=SimpleNamespace(config={"MAX_BODY_BYTES": 16}, dependencies=[]),
        make_url_map=lambda: Map([Rule("/echo", endpoint=Echo())]),
    )
    return Client(JsonWsgiApp(server))


def test_a_body_within_the_limit_is_read(app):
    assert app.post("/echo", data=b"x" * 16).data == b"x" * 16


def test_a_declared_length_over_the_limit_is_refused_before_routing(app):
    for path in ("/echo", "/nowhere"):
        response = app.post(path, data=b"x" * 17)
        assert response.status_code == 413
        assert response.json == {
            "error": "PAYLOAD_TOO_LARGE",
            "message": "the body may be at most 16 bytes",
            "details": {"max_bytes": 16},
            "request_id": response.headers["X-Request-Id"],
        }


def test_a_chunked_body_is_cut_off_at_the_limit(app):
    def chunked(size):
        return app.post(
            "/echo",
            input_stream=io.BytesIO(b"x" * size),
            headers={"Transfer-Encoding": "chunked"},
        )

    assert chunked(16).data == b"x" * 16
    response = chunked(1000)
    assert response.status_code == 413
    assert response.json["error"] == "PAYLOAD_TOO_LARGE"


def test_the_error_page_for_traefik_is_the_contracts_413(app):
    response = app.get("/internal/errors/413")
    assert response.status_code == 413
    assert response.json["error"] == "PAYLOAD_TOO_LARGE"
    assert response.json["details"] == {"max_bytes": 16}


# -- the request's id ---------------------------------------------------------------


def test_a_clients_sane_request_id_comes_back_in_the_header_and_the_error(app):
    response = app.get("/nowhere", headers={"X-Request-Id": "client-id.42"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "client-id.42"
    assert response.json["request_id"] == "client-id.42"


@pytest.mark.parametrize(
    "sent", [None, "", "x" * 129, "two words", "a;b", "é", "<script>"]
)
def test_a_request_without_a_sane_id_gets_a_new_one(app, sent):
    headers = {} if sent is None else {"X-Request-Id": sent}
    response = app.post("/echo", data=b"hi", headers=headers)
    made = response.headers["X-Request-Id"]
    assert made != sent and re.fullmatch(r"[0-9a-f]{32}", made)
    assert response.data == b"hi"


def test_each_request_gets_its_own_id(app):
    ids = {app.get("/nowhere").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_no_id_outlives_its_request(app):
    app.get("/nowhere", headers={"X-Request-Id": "gone-after"})
    assert tracing.current() is None


def test_an_error_body_outside_a_request_has_no_id():
    assert "request_id" not in body(error_response(Forbidden()))


# -- health --------------------------------------------------------------------------


class BrokenEngine:
    def connect(self):
        raise OSError("connection refused")


def health_app(databases):
    server = SimpleNamespace(
        container=SimpleNamespace(config={}, dependencies=databases),
        make_url_map=lambda: Map([Rule("/echo", endpoint=Echo())]),
    )
    return Client(JsonWsgiApp(server))


def test_livez_answers_while_the_process_runs():
    broken = Database(Store)
    broken.engine = BrokenEngine()
    response = health_app([broken]).get("/livez")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["X-Request-Id"]


def test_readyz_fails_while_the_database_does_not_answer():
    broken = Database(Store)
    broken.engine = BrokenEngine()
    response = health_app([broken]).get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "connection refused" in response.json["failing"]["database"]


def test_readyz_of_a_service_without_a_database_asks_the_broker(monkeypatch):
    asked = []
    monkeypatch.setattr(Readiness, "_broker", lambda self: asked.append(True))
    response = health_app([]).get("/readyz")
    assert response.status_code == 200 and asked == [True]


def test_each_request_is_timed_by_its_route_template_and_status():
    server = SimpleNamespace(
        container=SimpleNamespace(config={}, dependencies=[]),
        make_url_map=lambda: Map([Rule("/things/<string:thing_id>", endpoint=Echo())]),
    )
    client = Client(JsonWsgiApp(server))

    def count(route, status, method="POST"):
        labels = {"route": route, "method": method, "status": status}
        return (
            REGISTRY.get_sample_value("ems_http_request_duration_seconds_count", labels)
            or 0
        )

    before = count("/things/<string:thing_id>", "200"), count("unmatched", "404", "GET")
    client.post("/things/a1", data=b"x")
    client.post("/things/b2", data=b"x")
    client.get("/nowhere")
    assert count("/things/<string:thing_id>", "200") - before[0] == 2
    assert count("unmatched", "404", "GET") - before[1] == 1


def test_a_slow_check_soon_after_a_good_one_is_slow_not_unready(monkeypatch):
    import services.common.http as http_module

    monkeypatch.setattr(http_module, "READY_TIMEOUT", 0.05)
    answers = ["ok"]

    def broker(self):
        if answers.pop(0) == "slow":
            eventlet.sleep(1)
        elif not answers:
            answers.append("slow")

    monkeypatch.setattr(Readiness, "_broker", broker)
    readiness = Readiness(SimpleNamespace(config={}, dependencies=[]))
    assert readiness.failing() == {}
    # The next check runs out of time: within the grace, still ready.
    assert readiness.failing() == {}
    # Long after the last good one, running out of time is failing.
    readiness._passed_at -= http_module.READY_GRACE + 1
    answers.append("slow")
    assert "Timeout" in readiness.failing()["broker"]


def test_an_error_fails_readiness_whatever_passed_before(monkeypatch):
    calls = []

    def broker(self):
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionRefusedError("refused")

    monkeypatch.setattr(Readiness, "_broker", broker)
    readiness = Readiness(SimpleNamespace(config={}, dependencies=[]))
    assert readiness.failing() == {}
    assert "refused" in readiness.failing()["broker"]
