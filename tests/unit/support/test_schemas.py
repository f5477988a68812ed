"""What a support request may say."""

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.support.schemas import AdminReplySchema, SupportMessageSchema

USER_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"


def test_text_is_stripped():
    assert load(SupportMessageSchema(), {"text": "  Hello \n"}) == {"text": "Hello"}


def test_text_may_be_2000_characters():
    assert len(load(SupportMessageSchema(), {"text": "x" * 2000})["text"]) == 2000


@pytest.mark.parametrize(
    "data, field",
    [
        ({"text": ""}, "text"),
        ({"text": "   \n\t"}, "text"),
        ({"text": "x" * 2001}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"text": 42}, "text"),
        ({}, "text"),
        ({"text": "hi", "user_id": USER_ID}, "user_id"),
    ],
    ids=["empty", "blank", "too long", "NUL", "not text", "missing", "unknown"],
)
def test_bad_messages_are_refused(data, field):
    with pytest.raises(ValidationFailed) as caught:
        load(SupportMessageSchema(), data)
    assert field in caught.value.details


def test_a_reply_names_a_user_by_id():
    data = load(AdminReplySchema(), {"user_id": USER_ID, "text": " Done. "})
    assert data == {"user_id": USER_ID, "text": "Done."}


@pytest.mark.parametrize(
    "data, field",
    [
        ({"user_id": "not-an-id", "text": "hi"}, "user_id"),
        ({"text": "hi"}, "user_id"),
        ({"user_id": USER_ID, "text": ""}, "text"),
        ({"user_id": USER_ID, "text": "hi", "staff_id": USER_ID}, "staff_id"),
    ],
)
def test_bad_replies_are_refused(data, field):
    with pytest.raises(ValidationFailed) as caught:
        load(AdminReplySchema(), data)
    assert field in caught.value.details
