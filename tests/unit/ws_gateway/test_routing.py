"""Routing keys and bodies of ``ems.ws``: whom a message is for, and what is sent."""

import json

import pytest

from ws_gateway.routing import (
    ROLE,
    USER,
    Destination,
    Undeliverable,
    decode,
    destination,
    session_jti,
    traced,
)


@pytest.mark.parametrize(
    ("routing_key", "expected"),
    [
        ("user.42.overconsumption", Destination(USER, "42", "overconsumption")),
        ("user.7a2e-11.session.ended", Destination(USER, "7a2e-11", "session.ended")),
        ("role.ADMIN.chat.message", Destination(ROLE, "ADMIN", "chat.message")),
        (
            "role.OPERATOR.dr.event.started",
            Destination(ROLE, "OPERATOR", "dr.event.started"),
        ),
    ],
)
def test_destination_is_audience_name_then_the_rest_as_type(routing_key, expected):
    assert destination(routing_key) == expected


@pytest.mark.parametrize(
    "routing_key",
    [
        "",
        "user",
        "user.42",
        "user.42.",
        "user..overconsumption",
        "role.ADMIN",
        "role.admin.chat.message",
        "role.ROOT.x",
        "device.1.reading",
        "users.42.x",
    ],
)
def test_keys_that_name_no_destination_are_undeliverable(routing_key):
    with pytest.raises(Undeliverable):
        destination(routing_key)


def test_decode_keeps_the_body_text_as_it_is():
    body = (
        b'{"type": "chat.message", "data": {"text": "h\xc3\xa9"}, '
        b'"ts": "2026-11-22T10:15:00Z"}'
    )
    text, message = decode(body)
    assert text == body.decode()
    assert message == json.loads(body)


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe", b"not json", b"[1, 2]", b'"text"', b'{"data": {}}', b'{"type": 3}'],
)
def test_bodies_that_are_not_client_messages_are_undeliverable(body):
    with pytest.raises(Undeliverable):
        decode(body)


def test_session_jti_only_from_data():
    assert (
        session_jti(
            {"type": "session.ended", "data": {"reason": "logout", "jti": "j1"}}
        )
        == "j1"
    )
    assert (
        session_jti({"type": "session.ended", "data": {"reason": "user_deleted"}})
        is None
    )
    assert session_jti({"type": "session.ended", "data": None}) is None
    assert session_jti({"type": "session.ended", "jti": "j1"}) is None


@pytest.mark.parametrize(
    "routing_key",
    [
        "role.USER.chat.message",
        "role.OPERATOR.support.alert",
        "user.42.support.alert",
        "role.USER.dr.event",
        "role.ADMIN.overconsumption",
        "role.ADMIN.session.ended",
    ],
)
def test_a_type_of_the_catalogue_reaches_only_its_audience(routing_key):
    with pytest.raises(Undeliverable, match="not for|for roles"):
        destination(routing_key)


def test_a_type_of_the_catalogue_reaches_the_audience_it_declares():
    assert destination("role.OPERATOR.dr.event") == Destination(
        ROLE, "OPERATOR", "dr.event"
    )
    assert destination("user.42.chat.message") == Destination(
        USER, "42", "chat.message"
    )


def test_a_push_published_for_a_request_carries_its_id():
    body = b'{"type": "command.updated", "data": {}, "ts": "t"}'
    text, message = traced(*decode(body), {"nameko.correlation_id": "req-9"})
    assert message["request_id"] == "req-9"
    assert json.loads(text) == {
        "type": "command.updated",
        "data": {},
        "ts": "t",
        "request_id": "req-9",
    }


@pytest.mark.parametrize(
    "headers", [None, {}, {"nameko.correlation_id": "not sane"}, {"other": "x"}]
)
def test_a_push_without_a_sane_id_goes_as_it_came(headers):
    body = b'{"type": "x", "data": {}, "ts": "t"}'
    assert traced(*decode(body), headers) == (body.decode(), json.loads(body))
