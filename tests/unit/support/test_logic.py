"""How a question is answered: a rule, else the model, else staff."""

from datetime import UTC, datetime, timedelta

import pytest

from services.support import logic
from services.support.exceptions import TooManyMessages

HISTORY = [
    {"author": "user", "text": "Hello"},
    {"author": "bot", "text": "Hello! I'm the EMS support assistant."},
]


class FakeAssistant:
    def __init__(self, reply=None, error=None):
        self.reply = reply
        self.error = error
        self.calls = []

    def answer(self, history, question):
        self.calls.append((history, question))
        if self.error is not None:
            raise self.error
        return self.reply


def test_a_rule_answers_as_the_bot_without_asking_the_model():
    assistant = FakeAssistant(reply="from the model")
    answer = logic.answer("How do I add a device?", HISTORY, assistant)
    assert (answer.author, answer.rule, answer.needs_staff) == (
        "bot",
        "add_device",
        False,
    )
    assert "POST /api/devices" in answer.text
    assert assistant.calls == []
    assert answer.alert_reason is None


def test_without_a_rule_the_model_answers_with_the_conversation():
    assistant = FakeAssistant(reply="Your meter may be offline.")
    answer = logic.answer("My meter shows nothing", HISTORY, assistant)
    assert answer == logic.Answer("ai", "Your meter may be offline.", False)
    assert assistant.calls == [(HISTORY, "My meter shows nothing")]


@pytest.mark.parametrize(
    "assistant",
    [
        FakeAssistant(reply=None),
        FakeAssistant(reply=""),
        FakeAssistant(error=TimeoutError("slow")),
        FakeAssistant(error=RuntimeError("HTTP 500")),
    ],
    ids=["no answer", "empty answer", "timeout", "failure"],
)
def test_without_any_answer_the_question_waits_for_staff(assistant, caplog):
    answer = logic.answer("My meter shows nothing", HISTORY, assistant)
    assert (answer.author, answer.text, answer.needs_staff) == (None, None, True)
    assert answer.alert_reason == logic.UNANSWERED
    if assistant.error is not None:
        assert "no answer" in caplog.text


def test_asking_for_a_person_is_answered_and_still_calls_staff():
    assistant = FakeAssistant(reply="I can help!")
    answer = logic.answer("Can I talk to a person?", [], assistant)
    assert (answer.author, answer.rule) == ("bot", "talk_to_person")
    assert "staff" in answer.text
    assert answer.needs_staff is True
    assert answer.alert_reason == logic.ASKED_FOR_PERSON
    assert assistant.calls == []


def test_matching_is_deterministic():
    text = "I keep getting overconsumption alerts, how do I raise the limit?"
    assert len({logic.match_rule(text).name for _ in range(20)}) == 1


NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
QUOTAS = logic.Quotas(messages_per_minute=3, ai_calls_per_hour=2)
OPEN_QUESTION = "My fridge makes a strange noise at night"


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def test_the_quotas_come_from_the_config():
    settings = {"SUPPORT": {"max_messages_per_minute": "4", "max_ai_calls_per_hour": 5}}
    assert logic.Quotas.from_config(settings) == logic.Quotas(4, 5)
    assert logic.Quotas.from_config({}) == logic.Quotas()


def test_a_user_may_send_so_many_messages_a_minute():
    logic.check_message_rate([ago(seconds=50), ago(seconds=10)], QUOTAS, NOW)
    logic.check_message_rate(
        [ago(seconds=70), ago(seconds=50), ago(seconds=10)], QUOTAS, NOW
    )
    with pytest.raises(TooManyMessages) as caught:
        logic.check_message_rate(
            [ago(seconds=50), ago(seconds=30), ago(seconds=10)], QUOTAS, NOW
        )
    assert caught.value.status == 429
    assert caught.value.details == {"retry_after": 11, "limit": 3}
    assert "at most 3 support messages a minute" in caught.value.message


def test_the_model_is_asked_within_the_ai_quota_only():
    assert logic.may_ask_model(OPEN_QUESTION, [ago(minutes=30)], QUOTAS, NOW)
    assert logic.may_ask_model(
        OPEN_QUESTION, [ago(minutes=61), ago(minutes=30)], QUOTAS, NOW
    )
    assert not logic.may_ask_model(
        OPEN_QUESTION, [ago(minutes=50), ago(minutes=30)], QUOTAS, NOW
    )


def test_a_question_a_rule_answers_never_costs_a_model_call():
    assert not logic.may_ask_model("How do I add a device?", [], QUOTAS, NOW)


def test_past_the_ai_quota_the_question_waits_for_staff_unasked():
    assistant = FakeAssistant(reply="from the model")
    answer = logic.answer(OPEN_QUESTION, HISTORY, assistant, ask_model=False)
    assert (answer.author, answer.text, answer.needs_staff) == (None, None, True)
    assert answer.alert_reason == logic.UNANSWERED
    assert assistant.calls == []
    # A rule still answers.
    ruled = logic.answer("How do I add a device?", HISTORY, assistant, ask_model=False)
    assert ruled.author == "bot"
