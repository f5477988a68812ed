"""The mail service sends queued e-mail through a real SMTP server (maildev), and an
SMTP server that is down loses none: the e-mail waits in ``mail.outbox`` and goes
out once the server is up."""

import signal

import pytest
from kombu import Connection, Producer

from config import variables as v
from config.environment import environment
from harness.mail import inbox
from harness.polling import eventually
from harness.stack import Stack
from services.common.mail import outgoing
from services.common.topology import MAIL_OUTBOX, MAIL_SEND, SYNC


@pytest.fixture(scope="module")
def mail_only(tmp_path_factory):
    """The mail service alone, its SMTP server not started yet."""
    stack = Stack(
        tmp_path_factory.mktemp("mail"),
        environment=environment({v.MAIL_RETRY_MAX_SECONDS: 2}),
        processes=["mail"],
    )
    with stack:
        yield stack


def queue_mail(stack: Stack, payload: dict) -> None:
    with Connection(stack.resources.amqp_uri) as connection:
        channel = connection.channel()
        MAIL_OUTBOX(channel).declare()
        Producer(channel).publish(
            payload,
            exchange=SYNC,
            routing_key=MAIL_SEND,
            serializer="json",
            delivery_mode=2,
        )


def titled(stack: Stack, subject: str) -> list[dict]:
    return [mail for mail in inbox(stack) if mail["subject"] == subject]


def test_an_e_mail_waits_for_the_smtp_server_and_then_goes_out(mail_only):
    queue_mail(
        mail_only,
        outgoing("late@example.com", "Waited for the server", "It was down."),
    )
    eventually(lambda: "stays queued" in mail_only.log("mail"), timeout=60)
    assert inbox(mail_only) == []

    mail_only.start_process("maildev", "ems maildev")
    mails = eventually(lambda: titled(mail_only, "Waited for the server"), timeout=60)
    assert len(mails) == 1
    assert mails[0]["to"][0]["address"] == "late@example.com"
    assert "It was down." in mails[0]["text"]

    queue_mail(mail_only, outgoing("next@example.com", "Straight away", "Up now."))
    eventually(lambda: titled(mail_only, "Straight away"), timeout=30)


def test_what_is_no_e_mail_goes_to_the_dead_letters(mail_only):
    queue_mail(mail_only, {"to": "nobody", "subject": "", "text": ""})
    rejected = "dead-lettered a message of mail.outbox"
    eventually(lambda: rejected in mail_only.log("mail"))


def test_stopping_while_the_server_is_down_keeps_the_e_mail_queued(mail_only):
    """A worker waiting for the SMTP server gives its e-mail back when the service
    stops, however long it had left to wait; the next process sends it."""
    mail_only.kill("maildev")
    mail_only.kill("mail", signal.SIGTERM)
    mail_only.start_process(
        "mail",
        "ems run mail",
        environment={
            "EMS_MAIL_RETRY_FIRST_SECONDS": "600",
            "EMS_MAIL_RETRY_MAX_SECONDS": "600",
        },
    )
    before = len(mail_only.log("mail"))
    queue_mail(mail_only, outgoing("held@example.com", "Held through a stop", "Kept."))
    eventually(lambda: "next try in 600 s" in mail_only.log("mail")[before:])
    # SIGTERM: the service stops at once, not in ten minutes (kill() waits for it
    # 30 seconds and fails after).
    mail_only.kill("mail", signal.SIGTERM)
    mail_only.start_process("maildev")
    mail_only.start_process("mail", "ems run mail", environment={})
    eventually(lambda: titled(mail_only, "Held through a stop"), timeout=60)
