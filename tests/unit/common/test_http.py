"""The one mapping from errors to the contract's error body."""

import json

import pytest
from marshmallow import Schema, fields
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.exceptions import MethodNotAllowed, NotFound

from services.common.errors import (
    Conflict,
    Forbidden,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from services.common.errors import (
    NotFound as EmsNotFound,
)
from services.common.http import error_response
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
