"""mail's rules: what a queued e-mail becomes, which refusals are for good, and how
long to wait for an SMTP server that is down."""

import smtplib

import pytest

from services.common.errors import ValidationFailed
from services.common.mail import outgoing
from services.mail import logic


def test_a_queued_e_mail_becomes_a_message_from_the_platform():
    message = logic.build_message(
        outgoing("ada@example.com", "Reset your password", "Open the link."),
        "EMS <no-reply@ems.test>",
    )
    assert message["From"] == "EMS <no-reply@ems.test>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your password"
    assert message.get_content().strip() == "Open the link."
    assert message["Message-ID"]


@pytest.mark.parametrize(
    "payload",
    [
        {"subject": "s", "text": "t"},
        {"to": "not an address", "subject": "s", "text": "t"},
        {"to": "ada@example.com", "subject": "", "text": "t"},
        {"to": "ada@example.com", "subject": "s", "text": "t", "bcc": "x@y.z"},
    ],
)
def test_what_is_no_e_mail_is_refused(payload):
    with pytest.raises(ValidationFailed):
        logic.build_message(payload, "EMS <no-reply@ems.test>")


@pytest.mark.parametrize(
    "exc",
    [
        smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no such user")}),
        smtplib.SMTPSenderRefused(553, b"not allowed", "x@y.z"),
        smtplib.SMTPDataError(554, b"rejected"),
    ],
)
def test_a_5xx_answer_about_the_message_is_for_good(exc):
    assert logic.is_permanent(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError("timed out"),
        smtplib.SMTPServerDisconnected("gone"),
        smtplib.SMTPConnectError(421, b"busy"),
        smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"mailbox busy")}),
        smtplib.SMTPRecipientsRefused(
            {"a@b.c": (550, b"no"), "d@e.f": (451, b"later")}
        ),
        smtplib.SMTPDataError(451, b"try later"),
        smtplib.SMTPAuthenticationError(535, b"bad login"),
    ],
)
def test_anything_else_may_pass_and_is_tried_again(exc):
    assert not logic.is_permanent(exc)


def test_the_wait_doubles_from_a_second_up_to_the_longest():
    waits = [logic.retry_wait(n, 30) for n in range(0, 8)]
    assert waits == [0, 1, 2, 4, 8, 16, 30, 30]
    assert logic.retry_wait(10_000, 300) == 300


def test_the_smtp_server_is_probed_at_most_once_in_a_while():
    probes, now = [], [100.0]

    def probe():
        probes.append(now[0])
        return "ok" if len(probes) == 1 else "unreachable"

    status = logic.Remembered(probe, 5.0, lambda: now[0])
    assert status() == "ok"
    now[0] = 104.9
    assert status() == "ok"
    now[0] = 105.0
    assert status() == "unreachable"
    assert probes == [100.0, 105.0]


def test_an_smtp_server_that_is_not_there_does_not_answer():
    import socket

    from services.mail.service import smtp_answers

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert smtp_answers("127.0.0.1", port, 0.5) is False
