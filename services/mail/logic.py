"""mail's rules, as plain functions of their inputs."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from marshmallow import fields, validate

from services.common.schemas import InputSchema, load


class OutgoingMailSchema(InputSchema):
    """An e-mail to send, as ``services.common.mail.outgoing`` makes it."""

    to = fields.Email(required=True, validate=validate.Length(max=254))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    text = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


def build_message(payload: dict, sender: str) -> EmailMessage:
    """The message of a queued e-mail; ``ValidationFailed`` if it is not one."""
    mail = load(OutgoingMailSchema(), payload)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail["to"]
    message["Subject"] = mail["subject"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ems.localhost")
    message.set_content(mail["text"])
    return message


def is_permanent(exc: BaseException) -> bool:
    """Whether the SMTP server refused the e-mail for good (a 5xx answer about
    this message: a recipient or sender it will never take, data it rejects).

    Anything else (no connection, a timeout, a 4xx answer, a server that hangs
    up, a login it refuses while its settings are being fixed) may pass: the
    e-mail is tried again later."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return 500 <= exc.smtp_code < 600
    return False


def retry_wait(failures: int, longest: float, first: float = 1.0) -> float:
    """Seconds to wait after ``failures`` failed tries in a row: ``first``, then
    twice as long each time, at most ``longest``."""
    if failures <= 0:
        return 0.0
    return min(float(longest), float(first) * 2 ** min(failures - 1, 30))


#: What the mail service's health says of its SMTP server.
SMTP_OK = "ok"
SMTP_UNREACHABLE = "unreachable"


class Remembered:
    """The answer of ``check()``, asked again only once ``seconds`` have passed
    since it was last asked (on ``clock``): a health check polled by many
    callers probes the SMTP server once every few seconds at most."""

    def __init__(self, check, seconds: float, clock):
        self.check = check
        self.seconds = seconds
        self.clock = clock
        self.answer = None
        self.asked_at = None

    def __call__(self):
        now = self.clock()
        if self.asked_at is None or now - self.asked_at >= self.seconds:
            self.answer = self.check()
            self.asked_at = now
        return self.answer
