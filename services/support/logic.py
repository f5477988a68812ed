"""How the support chat answers: the rules first, then the AI model, else staff.

Nothing here touches the database or the broker; the assistant comes in as an
argument, so a test gives a fake one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.common.quotas import retry_after
from services.support.exceptions import TooManyMessages
from services.support.rules import RULES, Rule

log = logging.getLogger(__name__)

#: Why staff are alerted (``reason`` of a ``support.alert``).
UNANSWERED = "unanswered"
ASKED_FOR_PERSON = "asked_for_person"


MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DEFAULT_MESSAGES_PER_MINUTE = 10
DEFAULT_AI_CALLS_PER_HOUR = 30


@dataclass(frozen=True)
class Quotas:
    """How much one user may ask (``SUPPORT`` of the ``support`` settings)."""

    #: Messages a user may send in any minute; more are refused (429).
    messages_per_minute: int = DEFAULT_MESSAGES_PER_MINUTE
    #: Questions of a user the AI model is asked in any hour; more go to staff.
    ai_calls_per_hour: int = DEFAULT_AI_CALLS_PER_HOUR

    @classmethod
    def from_config(cls, config: dict) -> "Quotas":
        settings = config.get("SUPPORT") or {}
        return cls(
            messages_per_minute=int(
                settings.get("max_messages_per_minute", DEFAULT_MESSAGES_PER_MINUTE)
            ),
            ai_calls_per_hour=int(
                settings.get("max_ai_calls_per_hour", DEFAULT_AI_CALLS_PER_HOUR)
            ),
        )


def check_message_rate(
    last_messages: list[datetime], quotas: Quotas, now: datetime
) -> None:
    """The user may send another message: fewer than ``messages_per_minute`` of
    ``last_messages`` (when they wrote their latest ones, oldest first) are from
    the last minute. Otherwise ``TooManyMessages``, saying when to come back."""
    limit = quotas.messages_per_minute
    wait = retry_after(last_messages, limit, MINUTE, now)
    if wait is not None:
        raise TooManyMessages(
            f"at most {limit} support messages a minute; try again in {wait} s",
            {"retry_after": wait, "limit": limit},
        )


def may_ask_model(
    question: str, last_asked: list[datetime], quotas: Quotas, now: datetime
) -> bool:
    """Whether the model is to be asked ``question``: no rule answers it, and
    fewer than ``ai_calls_per_hour`` of the user's questions went to the model
    in the last hour (``last_asked``, oldest first). A question over the quota
    is not refused: it waits for staff, as if the model had no answer."""
    if match_rule(question) is not None:
        return False
    limit = quotas.ai_calls_per_hour
    return retry_after(last_asked, limit, HOUR, now) is None


class AnswerSource(Protocol):
    """What answers a question no rule does (``assistant.Assistant``)."""

    def answer(self, history: list[dict], question: str) -> str | None: ...


@dataclass(frozen=True)
class Answer:
    """What to reply to a user's message, and whether staff must answer it."""

    #: ``bot`` (a rule), ``ai`` (the model), or None: nothing answered.
    author: str | None
    text: str | None
    needs_staff: bool
    rule: str | None = None

    @property
    def alert_reason(self) -> str | None:
        if not self.needs_staff:
            return None
        return ASKED_FOR_PERSON if self.text is not None else UNANSWERED


def _normalized(text: str) -> str:
    # Phones type typographic apostrophes: "can’t" must match "can't".
    return text.replace("\u2019", "'").replace("\u2018", "'")


def matching_rules(text: str, rules: tuple[Rule, ...] = RULES) -> list[Rule]:
    """Every rule whose patterns match ``text``, in the order they are tried."""
    text = _normalized(text)
    return [candidate for candidate in rules if candidate.matches(text)]


def match_rule(text: str, rules: tuple[Rule, ...] = RULES) -> Rule | None:
    """The rule that answers ``text``: the first in ``rules`` that matches."""
    text = _normalized(text)
    return next((candidate for candidate in rules if candidate.matches(text)), None)


def ask_assistant(
    assistant: AnswerSource, history: list[dict], question: str
) -> str | None:
    """The model's answer, or None when it has none or fails.

    The model is a remote service that may be down, slow or wrong: whatever goes
    wrong, the user still gets their message stored and staff are alerted, so a
    failure is logged and becomes "no answer".
    """
    try:
        return assistant.answer(history, question)
    except Exception as exc:
        log.warning("the AI fallback gave no answer: %s: %s", type(exc).__name__, exc)
        return None


def answer(
    question: str,
    history: list[dict],
    assistant: AnswerSource,
    ask_model: bool = True,
) -> Answer:
    """Answer ``question`` (after ``history``, oldest first, ``{author, text}``).

    A rule answers as ``bot``; a rule that asks for staff (talking to a person)
    answers and still flags the message. Without a rule the model is asked, unless
    ``ask_model`` is false (the user's AI quota is used up); if it has nothing to
    say, or was not asked, the message waits for staff.
    """
    found = match_rule(question)
    if found is not None:
        return Answer("bot", found.answer, found.escalate, found.name)
    text = ask_assistant(assistant, history, question) if ask_model else None
    if text:
        return Answer("ai", text, False)
    return Answer(None, None, True)
