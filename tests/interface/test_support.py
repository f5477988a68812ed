"""support in its container, on a real broker and a real database, with a local
OpenAI-compatible server standing in for the model."""

import socket
import threading
import time
import uuid

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy

from harness.fakes import ModelServer
from services.common.errors import Forbidden, ValidationFailed
from services.common.topology import SYNC, WS
from services.support.exceptions import ConversationNotFound, TooManyMessages
from services.support.service import SupportService

pytestmark = pytest.mark.usefixtures("clean_databases")

USER = "6f1c9d2e-0000-4000-8000-0000000000a1"
OTHER = "6f1c9d2e-0000-4000-8000-0000000000a2"
ADMIN = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000ad", "role": "ADMIN"}
RULE_QUESTION = "How do I add a device?"
OPEN_QUESTION = "My fridge makes a strange noise at night"


def as_user(user_id):
    return {"user_id": user_id, "role": "USER"}


@pytest.fixture
def start_support(container_factory, service_config):
    """Start the service with the given ``SUPPORT`` and OpenAI settings; return
    an RPC proxy to it."""
    proxies = []

    def start(**settings):
        support = {"ai_model": "test-model", "ai_timeout": 5, "history_for_ai": 10}
        support.update(settings.pop("SUPPORT", {}))
        config = service_config("support", SUPPORT=support, **settings)
        container_factory(SupportService, config).start()
        proxy = ServiceRpcProxy("support", config)
        proxies.append(proxy)
        return proxy.start()

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.fixture
def support_rpc(start_support):
    """The service without an API key: no AI fallback."""
    return start_support()


class HungServer:
    """Accepts connections and never answers a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.connections = []
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _accept(self):
        while not self.stopped:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(connection)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        # Wake the accepting thread and let it end before its socket closes: a
        # green thread still waiting on a closed descriptor would wait on whatever
        # socket reuses the number next.
        self.stopped = True
        socket.create_connection(self.sock.getsockname()).close()
        self.thread.join()
        for connection in self.connections:
            connection.close()
        self.sock.close()


def pushes(listener, count, wait=5.0):
    return listener.messages(wait=wait, until=count)


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_rule_question_is_answered_stored_and_pushed(support_rpc, listen):
    ws = listen(WS, "#")
    result = support_rpc.post_message(as_user(USER), {"text": f"  {RULE_QUESTION} "})
    message, reply = result["message"], result["reply"]
    assert message["author"] == "user" and message["text"] == RULE_QUESTION
    assert message["user_id"] == USER
    assert reply["author"] == "bot" and "POST /api/devices" in reply["text"]
    assert set(message) == {"id", "user_id", "author", "text", "created_at"}
    assert message["created_at"].endswith("Z")
    assert support_rpc.history(as_user(USER), {}) == [message, reply]

    received = pushes(ws, 6)
    assert sorted(key for key, _ in received) == sorted(
        [
            f"user.{USER}.chat.message",
            "role.VIEWER.chat.message",
            "role.ADMIN.chat.message",
        ]
        * 2
    )
    for _, body in received:
        assert body["type"] == "chat.message" and body["ts"].endswith("Z")
    user_pushes = [body["data"] for key, body in received if key.startswith("user.")]
    assert user_pushes == [message, reply]
    assert pushes(ws, 1, wait=0.5) == []  # no alert

    [row] = support_rpc.conversations(ADMIN)
    assert row["awaiting_staff"] is False and row["message_count"] == 2


def test_an_unmatched_question_waits_for_staff(support_rpc, listen):
    alerts = listen(WS, "role.ADMIN.support.alert")
    result = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
    assert result["reply"] is None
    [(_, alert)] = pushes(alerts, 1)
    assert alert["type"] == "support.alert"
    assert alert["data"] == {
        "user_id": USER,
        "message_id": result["message"]["id"],
        "text": OPEN_QUESTION,
        "reason": "unanswered",
    }
    # Newer, but answered.
    support_rpc.post_message(as_user(OTHER), {"text": RULE_QUESTION})
    inbox = support_rpc.conversations(ADMIN)
    assert [(row["user_id"], row["awaiting_staff"]) for row in inbox] == [
        (USER, True),
        (OTHER, False),
    ]
    assert inbox[0]["last_message"] == result["message"]
    assert inbox[0]["message_count"] == 1


def test_staff_reply_reaches_the_user_and_settles_the_conversation(support_rpc, listen):
    asked = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})["message"]
    support_rpc.post_message(as_user(OTHER), {"text": RULE_QUESTION})
    to_user = listen(WS, f"user.{USER}.#")
    reply = support_rpc.admin_reply(
        ADMIN, {"user_id": USER, "text": "  It is the compressor; it is fine. "}
    )
    assert reply["author"] == "staff" and reply["user_id"] == USER
    assert reply["text"] == "It is the compressor; it is fine."
    [(key, body)] = pushes(to_user, 1)
    assert key == f"user.{USER}.chat.message" and body["data"] == reply

    assert support_rpc.history(as_user(USER), {}) == [asked, reply]
    inbox = support_rpc.conversations(ADMIN)
    assert [(row["user_id"], row["awaiting_staff"]) for row in inbox] == [
        (USER, False),  # now the most recent
        (OTHER, False),
    ]
    with pytest.raises(ConversationNotFound):
        support_rpc.admin_reply(ADMIN, {"user_id": str(uuid.uuid4()), "text": "Hello?"})
    with pytest.raises(ValidationFailed):
        support_rpc.admin_reply(ADMIN, {"user_id": USER, "text": " "})
    with pytest.raises(ValidationFailed):
        support_rpc.post_message(as_user(USER), {"text": "x" * 2001})


def test_history_is_oldest_first_and_per_user(support_rpc):
    texts = ["Hello", OPEN_QUESTION, "I want to talk to a person", RULE_QUESTION]
    for text in texts:
        support_rpc.post_message(as_user(USER), {"text": text})
    support_rpc.post_message(as_user(OTHER), {"text": "Hello"})
    history = support_rpc.history(as_user(USER), {})
    assert [(m["author"], m["text"]) for m in history if m["author"] == "user"] == [
        ("user", text) for text in texts
    ]
    assert [m["author"] for m in history] == [
        "user",
        "bot",
        "user",
        "user",
        "bot",
        "user",
        "bot",
    ]
    assert [m["text"] for m in support_rpc.history(as_user(USER), {}, 2)] == [
        RULE_QUESTION,
        history[-1]["text"],
    ]
    assert len(support_rpc.history(as_user(OTHER), {})) == 2
    assert support_rpc.history(as_user(str(uuid.uuid4())), {}) == []
    with pytest.raises(ValidationFailed):
        support_rpc.history(as_user(USER), {}, 0)


def test_asking_for_a_person_answers_and_alerts_staff(support_rpc, listen):
    alerts = listen(WS, "role.ADMIN.support.alert")
    result = support_rpc.post_message(
        as_user(USER), {"text": "Can I speak to a real person?"}
    )
    assert result["reply"]["author"] == "bot" and "staff" in result["reply"]["text"]
    [(_, alert)] = pushes(alerts, 1)
    assert alert["data"]["reason"] == "asked_for_person"
    assert alert["data"]["message_id"] == result["message"]["id"]
    assert support_rpc.conversations(ADMIN)[0]["awaiting_staff"] is True


def test_the_model_answers_what_no_rule_does(start_support, listen):
    with ModelServer("It is probably the compressor starting.") as model:
        support_rpc = start_support(
            OPENAI_API_KEY="test", OPENAI_BASE_URL=model.base_url
        )
        alerts = listen(WS, "role.ADMIN.support.alert")
        support_rpc.post_message(as_user(USER), {"text": "Hello"})
        result = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
    assert result["reply"]["author"] == "ai"
    assert result["reply"]["text"] == "It is probably the compressor starting."
    [request] = model.requests  # the rule answered "Hello" itself
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "test-model"
    sent = request["body"]["messages"]
    assert sent[0]["role"] == "system"
    assert [(m["role"], m["content"]) for m in sent[1:2]] == [("user", "Hello")]
    assert sent[-1] == {"role": "user", "content": OPEN_QUESTION}
    assert [m["author"] for m in support_rpc.history(as_user(USER), {})] == [
        "user",
        "bot",
        "user",
        "ai",
    ]
    assert support_rpc.conversations(ADMIN)[0]["awaiting_staff"] is False
    assert pushes(alerts, 1, wait=0.5) == []


def test_a_model_handing_off_leaves_the_question_to_staff(start_support, listen):
    with ModelServer("HANDOFF") as model:
        support_rpc = start_support(
            OPENAI_API_KEY="test", OPENAI_BASE_URL=model.base_url
        )
        alerts = listen(WS, "role.ADMIN.support.alert")
        result = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
    assert result["reply"] is None and len(model.requests) == 1
    assert len(pushes(alerts, 1)) == 1


def test_a_hung_model_times_out_without_stalling_the_service(start_support, listen):
    with HungServer() as model:
        support_rpc = start_support(
            OPENAI_API_KEY="test",
            OPENAI_BASE_URL=model.base_url,
            SUPPORT={"ai_timeout": 1},
        )
        alerts = listen(WS, "role.ADMIN.support.alert")
        started = time.monotonic()
        waiting = support_rpc.post_message.call_async(
            as_user(USER), {"text": OPEN_QUESTION}
        )
        wait_for(lambda: model.connections, timeout=5)  # the model is being asked
        answered = support_rpc.post_message(as_user(OTHER), {"text": RULE_QUESTION})
        assert answered["reply"]["author"] == "bot"
        assert time.monotonic() - started < 1.0  # not queued behind the hung call
        result = waiting.result()
        elapsed = time.monotonic() - started
    assert result["reply"] is None
    assert 0.9 <= elapsed < 4.0
    [(_, alert)] = pushes(alerts, 1)
    assert alert["data"]["message_id"] == result["message"]["id"]
    assert support_rpc.conversations(ADMIN)[0]["user_id"] == USER


def test_the_model_is_asked_again_after_a_timeout(start_support):
    with ModelServer("Try turning it off and on.", hang=1) as model:
        support_rpc = start_support(
            OPENAI_API_KEY="test",
            OPENAI_BASE_URL=model.base_url,
            SUPPORT={"ai_timeout": 1},
        )
        assert (
            support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})["reply"]
            is None
        )
        again = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})[
            "reply"
        ]
    assert again["author"] == "ai" and again["text"] == "Try turning it off and on."
    assert len(model.requests) == 2
    # The model saw the unanswered first question as part of the conversation.
    assert model.requests[1]["body"]["messages"][1]["content"] == OPEN_QUESTION


def test_a_deleted_user_loses_their_conversation(support_rpc, service_config):
    support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
    support_rpc.post_message(as_user(OTHER), {"text": RULE_QUESTION})
    deleted = {"user": {"id": USER, "email": "a@b.cd", "name": "A", "role": "USER"}}
    with Connection(service_config()["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for _ in range(2):  # a redelivered event changes nothing
            producer.publish(
                deleted,
                exchange=SYNC,
                routing_key="user.deleted",
                declare=[SYNC],
                serializer="json",
            )
    wait_for(lambda: support_rpc.history(as_user(USER), {}) == [])
    time.sleep(0.3)
    assert [row["user_id"] for row in support_rpc.conversations(ADMIN)] == [OTHER]
    assert len(support_rpc.history(as_user(OTHER), {})) == 2


def test_a_user_may_send_only_so_many_messages_a_minute(start_support, listen):
    support_rpc = start_support(SUPPORT={"max_messages_per_minute": 3})
    ws = listen(WS, "user.#")
    for _ in range(3):
        support_rpc.post_message(as_user(USER), {"text": RULE_QUESTION})
    with pytest.raises(TooManyMessages) as caught:
        support_rpc.post_message(as_user(USER), {"text": RULE_QUESTION})
    assert 1 <= int(caught.value.details["retry_after"]) <= 61
    assert int(caught.value.details["limit"]) == 3
    # Nothing of the refused message was stored or pushed; others may still write.
    assert len(support_rpc.history(as_user(USER), {})) == 6
    assert len(pushes(ws, 7, wait=1)) == 6
    assert (
        support_rpc.post_message(as_user(OTHER), {"text": RULE_QUESTION})["reply"][
            "author"
        ]
        == "bot"
    )


def test_concurrent_messages_at_the_quota_leave_exactly_the_quota(start_support):
    """Two support processes share supportdb; ten messages of one user at once
    with room for three: three are stored, seven refused."""
    support_rpc = start_support(SUPPORT={"max_messages_per_minute": 3})
    start_support(SUPPORT={"max_messages_per_minute": 3})

    # Sent at once, answered by both processes' workers concurrently.
    replies = [
        support_rpc.post_message.call_async(as_user(USER), {"text": RULE_QUESTION})
        for _ in range(10)
    ]

    def outcome(reply):
        try:
            return reply.result()
        except TooManyMessages:
            return None

    results = [outcome(reply) for reply in replies]
    assert len([result for result in results if result is not None]) == 3
    authors = [m["author"] for m in support_rpc.history(as_user(USER), {})]
    assert sorted(authors) == ["bot"] * 3 + ["user"] * 3


def test_past_the_ai_quota_questions_go_to_staff_unasked(start_support, listen):
    with ModelServer("It is probably the compressor starting.") as model:
        support_rpc = start_support(
            OPENAI_API_KEY="test",
            OPENAI_BASE_URL=model.base_url,
            SUPPORT={"max_ai_calls_per_hour": 2},
        )
        alerts = listen(WS, "role.ADMIN.support.alert")
        answered = [
            support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
            for _ in range(2)
        ]
        # A rule's answer costs no model call and is not held back by the quota.
        assert (
            support_rpc.post_message(as_user(USER), {"text": RULE_QUESTION})["reply"][
                "author"
            ]
            == "bot"
        )
        unasked = support_rpc.post_message(as_user(USER), {"text": OPEN_QUESTION})
        other = support_rpc.post_message(as_user(OTHER), {"text": OPEN_QUESTION})
    assert [result["reply"]["author"] for result in answered] == ["ai", "ai"]
    assert unasked["reply"] is None
    assert other["reply"]["author"] == "ai"  # every user has their own quota
    assert len(model.requests) == 3
    [(_, alert)] = pushes(alerts, 1)
    assert alert["data"]["message_id"] == unasked["message"]["id"]
    assert alert["data"]["reason"] == "unanswered"


def test_a_user_reads_their_own_conversation_and_admin_anyones(support_rpc):
    support_rpc.post_message(as_user(USER), {"text": RULE_QUESTION})
    mine = support_rpc.history(as_user(USER), {"user_id": USER})
    assert support_rpc.history(ADMIN, {"user_id": USER}) == mine
    assert support_rpc.history(ADMIN, {}) == []
    operator = {"user_id": OTHER, "role": "OPERATOR"}
    for caller in (as_user(OTHER), operator):
        with pytest.raises(Forbidden):
            support_rpc.history(caller, {"user_id": USER})
        with pytest.raises(Forbidden):
            support_rpc.conversations(caller)
        with pytest.raises(Forbidden):
            support_rpc.admin_reply(caller, {"user_id": USER, "text": "Hi"})
    with pytest.raises(ValidationFailed):
        support_rpc.history(as_user(USER), {"user_id": "not an id"})
