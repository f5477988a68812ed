"""mail: takes the e-mail queued on ``mail.outbox`` and sends it through the SMTP
server (``EMS_SMTP_HOST``/``EMS_SMTP_PORT``).

An e-mail leaves the queue only once the SMTP server has taken it. While the
server cannot be reached, or answers that it cannot take it now, the e-mail stays
queued and is tried again after a wait that doubles from one second up to
``EMS_MAIL_RETRY_MAX_SECONDS`` (``EMS_MAIL_RETRY_FIRST_SECONDS`` the first
time); a server that comes back gets every e-mail that
waited for it. One it refuses for good (a 5xx answer about that message), and a
message that is no e-mail, go to ``ems.dead``.
"""

import logging
import smtplib
import time

from eventlet.event import Event
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.common.health import HealthMixin
from services.common.messaging import DeadLetteringQueueConsumer, ReliableConsumer
from services.common.topology import MAIL_OUTBOX
from services.mail import logic

log = logging.getLogger(__name__)


class MailServerUnavailable(ConnectionError):
    """The SMTP server could not take the e-mail now; it stays queued."""


class MailRefused(Exception):
    """The SMTP server refused the e-mail for good."""


class Retries:
    """Failed tries in a row, shared by the process's workers: the wait before
    the next try grows with them and starts over once an e-mail goes out."""

    def __init__(self, longest: float, first: float = 1.0):
        self.longest = longest
        self.first = first
        self.failures = 0

    def failed(self) -> float:
        self.failures += 1
        return logic.retry_wait(self.failures, self.longest, self.first)

    def succeeded(self) -> None:
        self.failures = 0


class OutboxQueueConsumer(DeadLetteringQueueConsumer):
    """Takes one e-mail fewer at a time than the process has workers: while the
    SMTP server is down every e-mail taken holds a worker through its wait, and
    one worker stays free to answer ``health``."""

    @property
    def prefetch_count(self):
        return max(1, self.container.max_workers - 1)


class OutboxConsumer(ReliableConsumer):
    """The queue consumer of ``mail.outbox``, whose workers' waits for the SMTP
    server end as soon as the service is told to stop: the e-mail a worker held
    goes back to the queue and the process stops at once, not after the wait."""

    queue_consumer = OutboxQueueConsumer()

    def setup(self):
        super().setup()
        self.stopping = Event()

    def stop(self):
        if not self.stopping.ready():
            self.stopping.send(True)
        super().stop()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the service is stopping."""
        self.stopping.wait(timeout=seconds)


consume_outbox = OutboxConsumer.decorator


def smtp_answers(host: str, port: int, timeout: float) -> bool:
    """Whether an SMTP server at ``host:port`` greets and answers ``NOOP`` within
    ``timeout`` seconds (each)."""
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as server:
            code, _ = server.noop()
    except (OSError, smtplib.SMTPException):
        return False
    return code == 250


class Smtp(DependencyProvider):
    """``send(message)`` through the configured SMTP server, and ``status()``:
    whether it answers, probed at most every ``PROBE_EVERY_SECONDS``."""

    #: How long a probe of the SMTP server is believed, and how long one may
    #: take: the gateway waits two seconds for a service's health.
    PROBE_EVERY_SECONDS = 5.0
    PROBE_TIMEOUT_SECONDS = 1.0

    def setup(self):
        self.settings = self.container.config["SMTP"]
        mail = self.container.config["MAIL"]
        self.retries = Retries(
            float(mail["retry_max_seconds"]), float(mail["retry_first_seconds"])
        )
        self.status = logic.Remembered(
            self.probe, self.PROBE_EVERY_SECONDS, time.monotonic
        )

    def probe(self) -> str:
        settings = self.settings
        timeout = min(float(settings["timeout"]), self.PROBE_TIMEOUT_SECONDS)
        answers = smtp_answers(settings["host"], int(settings["port"]), timeout)
        return logic.SMTP_OK if answers else logic.SMTP_UNREACHABLE

    def send(self, message) -> None:
        settings = self.settings
        with smtplib.SMTP(
            settings["host"], int(settings["port"]), timeout=float(settings["timeout"])
        ) as server:
            if settings["starttls"]:
                server.starttls()
            if settings["user"]:
                server.login(settings["user"], settings["password"] or "")
            server.send_message(message)

    def get_dependency(self, worker_ctx):
        return SmtpAccess(self, worker_ctx.entrypoint)


class SmtpAccess:
    """A worker's view of the SMTP server: send, count a failure or a success,
    and wait before the next try (cut short if the service stops)."""

    def __init__(self, smtp: Smtp, entrypoint):
        self.send = smtp.send
        self.status = smtp.status
        self.retries = smtp.retries
        self.entrypoint = entrypoint

    def pause(self, seconds: float) -> None:
        self.entrypoint.pause(seconds)


class MailService(HealthMixin):
    name = "mail"

    smtp = Smtp()
    config = Config()

    @rpc
    def health(self):
        """``{"status": "ok", "smtp": "ok" | "unreachable"}``: the service is up
        whether or not its SMTP server answers (e-mail waits in its queue
        meanwhile), and says which."""
        return {"status": "ok", "smtp": self.smtp.status()}

    @consume_outbox(MAIL_OUTBOX)
    def send(self, payload):
        message = logic.build_message(payload, self.config["MAIL"]["from"])
        try:
            self.smtp.send(message)
        except (OSError, smtplib.SMTPException) as exc:
            if logic.is_permanent(exc):
                raise MailRefused(f"{type(exc).__name__}: {exc}") from exc
            wait = self.smtp.retries.failed()
            log.warning(
                "could not send an e-mail (%s: %s); it stays queued, next try in "
                "%.0f s",
                type(exc).__name__,
                exc,
                wait,
            )
            self.smtp.pause(wait)
            raise MailServerUnavailable(str(exc)) from exc
        self.smtp.retries.succeeded()
        log.info("sent %r", message["Subject"])
