"""The AI fallback: an OpenAI-compatible chat model asked what no rule answers.

``AssistantProvider`` builds one ``Assistant`` per process from the settings
``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``SUPPORT`` (``ai_model``,
``ai_timeout``); without a key the assistant has no answers and every unmatched
question goes to staff. The ``openai`` client's synchronous transport does its I/O
on the sockets eventlet patched, so a slow model holds up only its own worker.
"""

import logging

import eventlet
import openai
from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 10.0
#: What the model says when it should not answer; the question goes to staff.
HANDOFF = "HANDOFF"
#: Longest answer kept; a longer one is cut (a misbehaving server must not fill
#: the database).
MAX_ANSWER = 4000
MAX_TOKENS = 500

SYSTEM_PROMPT = f"""\
You are the support assistant of EMS, an energy management platform. Households and
sites own metered devices (kinds: meter, appliance, heat_pump, ev_charger, pv,
battery). Devices send readings of the energy (kWh) used in the interval that ends at
the reading's timestamp; the platform adds them up per UTC hour (a reading at 10:15
counts in 10:00-11:00, one at exactly 11:00 still in 10:00-11:00). Each device has an
hourly limit, max_hourly_kwh (0.5 kWh by default), changed on the Devices page or with
PATCH /api/devices/{{id}}; devices are added on the Devices page or with POST
/api/devices. An overconsumption notification is raised when one reading exceeds the
limit or when a device's total for a UTC hour first crosses it, once per device and
hour; notifications are listed by GET /api/notifications. The consumption chart shows
one device's kWh per UTC hour for one day (GET /api/consumption/day). There is no
self-service password reset: an administrator sets a new password. Batteries, demand
response and peer-to-peer trading are being introduced: describe them in general terms
and never invent pages, routes or dates. Roles: USER, VIEWER (reads what staff read,
changes nothing), OPERATOR (reads every device, runs demand response), ADMIN
(everything, answers this chat).

Answer in the user's language, briefly (at most a few sentences), and only about
this platform and energy use. Never make up facts, prices or features. If you
cannot answer from what you know here, if the user needs something done on their
account, or if they are upset or ask for a person, reply with exactly {HANDOFF}
and nothing else: a member of staff will take over."""

#: How each author's messages read to the model.
ROLES = {"user": "user", "bot": "assistant", "ai": "assistant", "staff": "assistant"}


class AssistantTimeout(Exception):
    """The model did not answer in time."""


def prompt_messages(history: list[dict], question: str) -> list[dict]:
    """The chat the model is given: the platform, the recent conversation (oldest
    first, ``{author, text}``), then the question."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for message in history:
        messages.append({"role": ROLES[message["author"]], "content": message["text"]})
    messages.append({"role": "user", "content": question})
    return messages


class Assistant:
    """``answer(history, question)``: the model's answer, or None when it has none
    (or there is no model). Failures raise; the caller decides what they mean."""

    def __init__(self, client, model: str, timeout: float):
        self.client = client
        self.model = model
        self.timeout = timeout

    def answer(self, history: list[dict], question: str) -> str | None:
        if self.client is None:
            return None
        # The client's timeout bounds each connect, write and read; this bounds
        # the whole call, for a server that trickles its answer byte by byte.
        with eventlet.Timeout(
            self.timeout, AssistantTimeout(f"no answer in {self.timeout:g} s")
        ):
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=prompt_messages(history, question),
                max_tokens=MAX_TOKENS,
            )
        if not completion.choices:
            return None
        text = (completion.choices[0].message.content or "").strip()
        if not text or text.strip(" .\"'") == HANDOFF:
            return None
        return text[:MAX_ANSWER]


class AssistantProvider(DependencyProvider):
    """Gives a worker the process's ``Assistant``."""

    def setup(self):
        config = self.container.config
        support = config.get("SUPPORT") or {}
        timeout = float(support.get("ai_timeout") or DEFAULT_TIMEOUT)
        model = str(support.get("ai_model") or DEFAULT_MODEL)
        api_key = config.get("OPENAI_API_KEY")
        self.client = None
        if api_key:
            # No retries: the user is waiting, and staff are the fallback.
            self.client = openai.OpenAI(
                api_key=str(api_key),
                base_url=str(config.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL),
                timeout=timeout,
                max_retries=0,
            )
        else:
            log.info("no OPENAI_API_KEY: unanswered support questions go to staff")
        self.assistant = Assistant(self.client, model, timeout)

    def stop(self):
        if self.client is not None:
            self.client.close()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.assistant
