"""Which rule answers which question: each its own, none another's."""

import pytest

from services.support import logic
from services.support.rules import RULES

#: Typical phrasings of each rule's question. Each must match its own rule and no
#: other, so no rule hijacks another's question whatever the order of ``RULES``.
PHRASINGS = {
    "greeting": ["Hello", "hi there!", "Good morning", "hey, how are you?"],
    "add_device": [
        "How do I add a device?",
        "I want to register my new heat pump",
        "how can I connect an EV charger to my account",
    ],
    "overconsumption": [
        "What does overconsumption mean?",
        "Why did I get an over-consumption notification?",
        "my fridge went over the hourly limit, what does that mean",
    ],
    "consumption_chart": [
        "How do I read the consumption chart?",
        "what do the bars on the graph show",
        "Why are the hours in UTC?",
        "Where can I see my consumption?",
        "which time zone does it use",
    ],
    "change_limit": [
        "How can I change the hourly limit of my meter?",
        "I want to raise the threshold for my heat pump",
        "where do I set max_hourly_kwh",
        "What is the default limit of a device?",
    ],
    "password_reset": [
        "I forgot my password",
        "How do I reset my password?",
        "I can't log in",
    ],
    "battery_schedule": [
        "How does the battery schedule work?",
        "when will my batteries charge",
        "can I set a charging schedule",
    ],
    "demand_response": [
        "What is demand response?",
        "What's a DR event?",
        "Will there be load shedding on my site?",
    ],
    "trading": [
        "How does P2P trading work?",
        "Can I sell my solar surplus to my neighbours?",
        "what is the energy market",
    ],
    "talk_to_person": [
        "I want to talk to a person",
        "Can I speak with a real human please?",
        "let me chat with someone from staff",
    ],
}

CASES = [(name, text) for name, texts in PHRASINGS.items() for text in texts]


def test_there_are_ten_documented_rules():
    assert sorted(rule.name for rule in RULES) == sorted(PHRASINGS)
    for rule in RULES:
        assert rule.topic and rule.answer and rule.patterns


@pytest.mark.parametrize("expected, text", CASES)
def test_a_question_matches_its_rule_and_no_other(expected, text):
    assert [rule.name for rule in logic.matching_rules(text)] == [expected]
    assert logic.match_rule(text).name == expected


@pytest.mark.parametrize(
    "text",
    [
        "My fridge makes a strange noise",
        "What is the weather tomorrow?",
        "hi, my meter shows nothing since yesterday",  # more than a greeting
        "Where is my address stored?",  # "add" inside a word
        "Dr. Smith recommended your platform",  # a title, not demand response
        "ok",
    ],
)
def test_unmatched_questions_have_no_rule(text):
    assert logic.match_rule(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello! How do I add a device?", "add_device"),
        ("I forgot my password, can I talk to a person?", "talk_to_person"),
        ("I keep getting overconsumption alerts, how do I raise the limit?", None),
        ("I can’t log in", "password_reset"),  # a typographic apostrophe
        ("HOW DO I ADD A DEVICE", "add_device"),
    ],
)
def test_the_first_matching_rule_answers(text, expected):
    found = logic.match_rule(text)
    if expected is None:  # either answer helps; the order decides, always the same
        assert found is logic.match_rule(text) is not None
    else:
        assert found.name == expected


def test_only_asking_for_a_person_calls_staff():
    assert [rule.name for rule in RULES if rule.escalate] == ["talk_to_person"]


def test_answers_speak_of_this_platform():
    answers = {rule.name: rule.answer for rule in RULES}
    assert "POST /api/devices" in answers["add_device"]
    assert "Devices page" in answers["add_device"]
    assert "max_hourly_kwh" in answers["change_limit"]
    assert "0.5 kWh" in answers["change_limit"]
    assert "once per device and hour" in answers["overconsumption"]
    assert "UTC hour" in answers["consumption_chart"]
    assert "no self-service password reset" in answers["password_reset"]
    for name in ("battery_schedule", "demand_response", "trading"):
        assert "being introduced" in answers[name]
        assert "/api/" not in answers[name]
