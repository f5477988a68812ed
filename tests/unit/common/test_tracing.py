"""Correlation ids: which a client may give, the ones made, and the log lines that
carry them."""

import json
import logging
import re
import sys
from types import SimpleNamespace

import pytest

from services.common import tracing
from services.common.messaging import trusted_context
from services.common.topology import DATA, SYNC


@pytest.mark.parametrize(
    "value",
    ["abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "Root=1-5e1b:x/y+z@h", "x" * 128],
)
def test_a_sane_id_is_kept(value):
    assert tracing.sane(value) == value
    assert tracing.request_id(value) == value


@pytest.mark.parametrize(
    "value",
    [None, "", "x" * 129, "two words", "line\nbreak", "tab\t", "é", "<b>", "a;b", 42],
)
def test_anything_else_is_refused_and_replaced(value):
    assert tracing.sane(value) is None
    made = tracing.request_id(value)
    assert re.fullmatch(r"[0-9a-f]{32}", made)


def test_made_ids_differ():
    assert tracing.new_id() != tracing.new_id()


def test_an_id_is_current_until_its_work_ends():
    assert tracing.current() is None
    token = tracing.begin("outer")
    inner = tracing.begin("inner")
    assert tracing.current() == "inner"
    tracing.end(inner)
    assert tracing.current() == "outer"
    tracing.end(token)
    assert tracing.current() is None


def record(message="hello", exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(
        "ems.test", logging.WARNING, __file__, 1, message, (), exc_info
    )


def test_the_filter_puts_the_current_id_and_the_process_on_every_record():
    log_filter = tracing.CorrelationFilter(process="gateway")
    plain = record()
    assert log_filter.filter(plain)
    assert (plain.correlation_id, plain.process_name) == ("-", "gateway")
    token = tracing.begin("req-1")
    try:
        traced = record()
        log_filter.filter(traced)
    finally:
        tracing.end(token)
    assert traced.correlation_id == "req-1"


def test_a_plain_line_shows_the_id():
    log_filter = tracing.CorrelationFilter(process="devices")
    formatter = logging.Formatter("%(levelname)s [%(correlation_id)s]: %(message)s")
    token = tracing.begin("req-2")
    try:
        line = record("made a device")
        log_filter.filter(line)
    finally:
        tracing.end(token)
    assert formatter.format(line) == "WARNING [req-2]: made a device"


def test_the_json_formatter_writes_one_object_per_line():
    log_filter = tracing.CorrelationFilter(process="auth")
    token = tracing.begin("req-3")
    try:
        line = record("two\nlines")
        log_filter.filter(line)
    finally:
        tracing.end(token)
    text = tracing.JsonFormatter().format(line)
    assert "\n" not in text
    written = json.loads(text)
    assert written.pop("time").endswith("+00:00")
    assert written == {
        "level": "WARNING",
        "logger": "ems.test",
        "message": "two\nlines",
        "process": "auth",
        "correlation_id": "req-3",
    }


def test_the_json_formatter_says_null_without_an_id_and_keeps_the_traceback():
    try:
        raise KeyError("boom")
    except KeyError:
        import sys

        line = record("failed", sys.exc_info())
    tracing.CorrelationFilter(process="web").filter(line)
    written = json.loads(tracing.JsonFormatter().format(line))
    assert written["correlation_id"] is None
    assert written["message"].startswith("failed\nTraceback")
    assert "KeyError: 'boom'" in written["message"]


def message(exchange: str, headers: dict):
    return SimpleNamespace(headers=headers, delivery_info={"exchange": exchange})


def test_a_keyed_consumer_takes_only_the_id_of_an_event_of_ems_sync():
    headers = {
        "nameko.correlation_id": "req-4",
        "nameko.user_id": "someone",
        "nameko.call_id_stack": ["x"],
    }
    assert trusted_context(message(SYNC.name, headers)) == {"correlation_id": "req-4"}


@pytest.mark.parametrize(
    "exchange, headers",
    [
        # A device publishes to ems.data: nothing of its headers is taken, not even
        # a header claiming another exchange.
        (DATA.name, {"nameko.correlation_id": "forged", "x-ems-exchange": "ems.sync"}),
        (SYNC.name, {"nameko.correlation_id": "not sane\n"}),
        (SYNC.name, {}),
    ],
)
def test_nothing_else_sets_a_keyed_consumers_context(exchange, headers):
    assert trusted_context(message(exchange, headers)) == {}


@pytest.mark.parametrize("process", ["gateway", "ws_gateway", "balancer", "web"])
def test_ems_log_format_json_makes_every_line_of_a_process_one_object(process):
    import io
    import logging.config

    import config

    settings = config.settings(process, {"EMS_LOG_FORMAT": "json"})["LOGGING"]
    assert settings["handlers"]["console"]["formatter"] == "json"
    stream = io.StringIO()
    settings["handlers"]["console"]["stream"] = stream
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logging.config.dictConfig(settings)
        token = tracing.begin("req-5")
        try:
            logging.getLogger("ems.test").info("hello")
        finally:
            tracing.end(token)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    (line,) = stream.getvalue().splitlines()
    written = json.loads(line)
    assert (written["process"], written["correlation_id"]) == (process, "req-5")


def test_the_plain_format_is_the_default_and_nothing_else_is_taken():
    import config

    assert (
        config.settings("auth", {})["LOGGING"]["handlers"]["console"]["formatter"]
        == "plain"
    )
    with pytest.raises(ValueError, match="plain or json"):
        config.settings("auth", {"EMS_LOG_FORMAT": "xml"})


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            '127.0.0.1 - - [02/Dec/2026 11:42:09] "GET /readyz HTTP/1.1" 200 172 0.01',
            False,
        ),
        (
            '127.0.0.1 - - [02/Dec/2026 11:42:09] "GET /readyz HTTP/1.1" 503 90 0.01',
            True,
        ),
        ("200 GET /livez (127.0.0.1) 0.38ms", False),
        ("503 GET /readyz (127.0.0.1) 0.38ms", True),
        ("200 GET /api/devices (127.0.0.1) 0.38ms", True),
        ('"GET /readyzz HTTP/1.1" 200 1 0.1', True),
    ],
)
def test_only_the_probes_that_succeeded_are_left_out_of_the_logs(line, kept):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, line, None, None)
    assert tracing.QuietProbes().filter(record) is kept


def test_an_expected_error_is_logged_in_one_line_an_unexpected_one_in_full():
    try:
        raise ValueError("refused")
    except ValueError:
        exc_info = sys.exc_info()
    expected = logging.LogRecord(
        "nameko.containers",
        logging.WARNING,
        __file__,
        1,
        "(expected) error handling worker %s: %s",
        ("w", "refused"),
        exc_info,
    )
    unexpected = logging.LogRecord(
        "nameko.containers",
        logging.ERROR,
        __file__,
        1,
        "error handling worker %s: %s",
        ("w", "boom"),
        exc_info,
    )
    brief = tracing.BriefExpectedErrors()
    assert brief.filter(expected) and expected.exc_info is None
    assert brief.filter(unexpected) and unexpected.exc_info is exc_info
