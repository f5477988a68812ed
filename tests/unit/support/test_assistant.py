"""What the model is asked, and what of its answer is kept."""

from types import SimpleNamespace

import eventlet
import pytest

from services.support.assistant import (
    HANDOFF,
    MAX_ANSWER,
    Assistant,
    AssistantTimeout,
    prompt_messages,
)


class FakeClient:
    """The part of ``openai.OpenAI`` the assistant uses."""

    def __init__(self, content="An answer.", delay=0.0):
        self.content = content
        self.delay = delay
        self.requests = []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self.create))

    def create(self, **request):
        self.requests.append(request)
        eventlet.sleep(self.delay)
        message = SimpleNamespace(content=self.content)
        return SimpleNamespace(choices=[SimpleNamespace(message=message)])


def test_the_model_sees_the_platform_the_conversation_and_the_question():
    history = [
        {"author": "user", "text": "Hello"},
        {"author": "bot", "text": "Hi!"},
        {"author": "staff", "text": "Staff here."},
        {"author": "ai", "text": "An earlier answer."},
    ]
    messages = prompt_messages(history, "Why is my meter silent?")
    assert messages[0]["role"] == "system"
    assert "max_hourly_kwh" in messages[0]["content"]
    assert HANDOFF in messages[0]["content"]
    assert [m["role"] for m in messages[1:]] == [
        "user",
        "assistant",
        "assistant",
        "assistant",
        "user",
    ]
    assert messages[-1]["content"] == "Why is my meter silent?"


def test_the_answer_is_the_models_text():
    client = FakeClient(content="  Check its power supply. ")
    assistant = Assistant(client, "a-model", timeout=5)
    assert assistant.answer([], "Why?") == "Check its power supply."
    assert client.requests[0]["model"] == "a-model"


@pytest.mark.parametrize("content", [None, "", "   ", HANDOFF, f" {HANDOFF}. "])
def test_no_text_or_a_handoff_is_no_answer(content):
    assert Assistant(FakeClient(content=content), "m", 5).answer([], "Why?") is None


def test_a_long_answer_is_cut():
    answer = Assistant(FakeClient(content="x" * 10_000), "m", 5).answer([], "Why?")
    assert len(answer) == MAX_ANSWER


def test_without_a_client_there_is_no_answer():
    assert Assistant(None, "m", 5).answer([], "Why?") is None


def test_a_slow_model_times_out():
    assistant = Assistant(FakeClient(delay=5), "m", timeout=0.1)
    with pytest.raises(AssistantTimeout):
        assistant.answer([], "Why?")
