"""The support chat's rules: questions the platform answers itself, without a model.

Each rule is data: a name, regular expressions (matched case-insensitively, with word
boundaries so ``add`` never matches inside ``address``), and the answer. The first
rule in ``RULES`` with a matching pattern answers, so the order settles the rare
message that touches two topics: asking for a person comes first (it must never be
answered away), the greeting last (it answers only a message that is nothing but a
greeting, so "hi, my meter is broken" still reaches the AI or staff).

Answers describe this platform as it is: where a feature is still being introduced,
they say what it is without promising routes that do not exist yet.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    name: str
    #: What the rule answers, in a few words (for the docs and the logs).
    topic: str
    patterns: tuple[re.Pattern, ...]
    answer: str
    #: Staff must answer too: the conversation is flagged and ADMINs are alerted.
    escalate: bool = False

    def matches(self, text: str) -> bool:
        return any(pattern.search(text) for pattern in self.patterns)


def rule(name, topic, patterns, answer, escalate=False) -> Rule:
    return Rule(
        name=name,
        topic=topic,
        patterns=tuple(re.compile(p, re.IGNORECASE) for p in patterns),
        answer=" ".join(answer.split()),
        escalate=escalate,
    )


STAFF_WORDS = (
    r"(person|human|someone|somebody|staff|agent|admin|administrator"
    r"|representative|support\s+team|real\s+people|people)"
)

TALK_TO_PERSON = rule(
    "talk_to_person",
    "asking for a person: staff are alerted",
    [
        rf"\b(talk|speak|chat|get\s+in\s+touch)\b.{{0,40}}\b(to|with)\b.{{0,20}}"
        rf"\b{STAFF_WORDS}\b",
        r"\b(real|live|actual)\s+(person|human|agent|people)\b",
        r"\b(contact|reach|call)\s+(the\s+)?(support|staff|an?\s+admin|a\s+human"
        r"|a\s+person|someone)\b",
        r"\bhuman\s+(help|support|agent)\b",
    ],
    """I've let our staff know that you would like to talk to a person. An
    administrator will reply here in this chat; you'll see their answer as soon
    as it is sent, even if you reload the page.""",
    escalate=True,
)

PASSWORD_RESET = rule(
    "password_reset",
    "resetting a password: there is no self-service reset yet, an ADMIN sets one",
    [
        r"\bpass\s?words?\b",
        r"\b(can'?t|cannot|can\s+not|unable\s+to)\s+(log|sign)\s*(in|on)\b",
        r"\blocked\s+out\b",
        r"\b(forgot|forgotten|lost|reset)\b.{0,30}\b(login|credentials)\b",
    ],
    """There is no self-service password reset yet, sorry. An administrator can
    set a new password for your account: write "talk to a person" here and staff
    will help, or ask your site's ADMIN directly. Changing a password yourself is
    not possible yet either: an administrator does it for you.""",
)

DEMAND_RESPONSE = rule(
    "demand_response",
    "what demand-response (DR) events are (being introduced)",
    [
        r"\bdemand[\s-]+response\b",
        r"\bDR\b(?!\.)",
        r"\bload[\s-]+(shedding|reduction)\b",
        r"\bpeak[\s-]+(events?|reduction|shaving)\b",
        r"\bgrid\s+(events?|signals?|requests?)\b",
        r"\bflexibility\s+(events?|programs?|requests?)\b",
    ],
    """Demand response (DR) is being introduced on the platform. In a DR event an
    operator asks participating households to use less power, or to shift their
    use to other hours, for a set period when the grid is under strain (a winter
    evening peak, for example); what you saved is judged from your devices'
    consumption per UTC hour. The DR pages will appear in the app when the
    feature is live; until then there are no DR events to join.""",
)

TRADING = rule(
    "trading",
    "peer-to-peer energy trading basics (being introduced)",
    [
        r"\btrad(e|es|ed|ing)\b",
        r"\b(p2p|peer[\s-]+to[\s-]+peer)\b",
        r"\b(energy\s+)?market(place)?s?\b",
        r"\b(sell|selling|sold|buy|buying|bought)\b.{0,30}"
        r"\b(energy|electricity|power|surplus|kwh|solar)\b",
    ],
    """Peer-to-peer trading is being introduced on the platform: households with
    surplus energy (typically from solar panels) offer it for given hours, and
    neighbours buy it through the platform's local market instead of from the
    grid. Energy is counted per UTC hour, like your consumption. The trading
    pages will appear in the app when the feature is live; until then nothing is
    bought or sold on your behalf.""",
)

BATTERY_SCHEDULE = rule(
    "battery_schedule",
    "what a battery schedule is (being introduced)",
    [
        r"\bbatter(y|ies)\b",
        r"\b(charging|discharging|charge|discharge)\s+(schedules?|plans?|windows?)\b",
        r"\bstate\s+of\s+charge\b",
    ],
    """Battery scheduling is being introduced on the platform. A home battery is
    added like any other device (kind "battery"); a schedule says in which hours
    it charges (for example from solar surplus or in cheap night hours) and in
    which it discharges to cover your own use at expensive peak times. The
    scheduling pages will appear in the app when the feature is live; until then
    your battery runs on its own settings.""",
)

OVERCONSUMPTION = rule(
    "overconsumption",
    "what an overconsumption notification means",
    [
        r"\bover[\s-]?consum\w*",
        r"\bover\s+(the|my|its|their|a)\s+(hourly\s+)?limit\b",
        r"\b(exceed\w*|crossed|cross(es|ing)?|went\s+over|goes\s+over|above)\b"
        r".{0,20}\b(limit|threshold)\b",
        r"\b(why|what)\b.{0,40}\b(alerts?|warnings?|notifications?)\b",
    ],
    """An overconsumption notification means a device used more than its hourly
    limit (max_hourly_kwh, 0.5 kWh unless you set another): either one reading
    alone was over the limit, or the device's total for one UTC hour crossed
    it. You are notified once per device and hour, not on every later reading.
    Notifications appear live in the app and in your notification list (GET
    /api/notifications). If the limit is too low for that device, change its
    max_hourly_kwh on the Devices page.""",
)

CONSUMPTION_CHART = rule(
    "consumption_chart",
    "reading the consumption chart: kWh per UTC hour",
    [
        r"\b(chart|graph|plot|diagram|histogram)s?\b",
        r"\b(read|understand|interpret|explain)\b.{0,30}\b(consumption|usage)\b",
        r"\b(see|view|show|check)\b.{0,20}\b(consumption|usage)\b",
        r"\bkwh\s+per\s+hour\b",
        r"\b(hours?|times?)\b.{0,30}\b(utc|shifted)\b",
        r"\btime\s*zones?\b",
    ],
    """The consumption chart shows one device for one day: 24 bars, each the
    energy in kWh the device used in one UTC hour (hours without readings show
    0), and the day's total. A reading counts in the hour its interval ends in,
    so a reading stamped 10:15 counts in 10:00–11:00, and one stamped exactly
    11:00 still counts in 10:00–11:00. Hours are in UTC, so they may look
    shifted against your local time. The same data comes from GET
    /api/consumption/day?device_id=…&date=YYYY-MM-DD.""",
)

CHANGE_LIMIT = rule(
    "change_limit",
    "changing a device's hourly limit (max_hourly_kwh, default 0.5 kWh)",
    [
        r"\bmax_hourly_kwh\b",
        r"\b(change|set|raise|increase|lower|decrease|reduce|adjust|edit|update"
        r"|modify)\b.{0,40}\b(limits?|thresholds?|max(imum)?)\b",
        r"\b(limits?|thresholds?)\b.{0,30}\b(change|set|raise|increase|lower"
        r"|decrease|adjust|edit|update|modify)\w*",
        r"\b(what|which|where|how\s+much)\b.{0,25}"
        r"\b(hourly|default)\s+(limit|threshold)s?\b",
    ],
    """Each device has an hourly limit, max_hourly_kwh: the energy in kWh it may
    use in one UTC hour before you get an overconsumption notification. A
    device created without one gets 0.5 kWh. To change it, edit the device on
    the Devices page, or send PATCH /api/devices/{id} with {"max_hourly_kwh":
    1.5}. The device's owner or an ADMIN can change it; it applies to readings
    counted from then on.""",
)

ADD_DEVICE = rule(
    "add_device",
    "adding a device: the Devices page or POST /api/devices",
    [
        r"\b(add|adding|register|registering|create|creating|connect|connecting"
        r"|set\s*up|install|installing|new)\b.{0,30}\b(devices?|meters?|appliances?"
        r"|heat\s*pumps?|ev\s*chargers?|chargers?|pv|solar\s+panels?)\b",
        r"\bpost\s+/api/devices\b",
    ],
    """To add a device, open the Devices page and choose to add one, or send POST
    /api/devices with {"name": "Kitchen meter", "kind": "meter",
    "max_hourly_kwh": 0.5}. The kind is one of meter, appliance, heat_pump,
    ev_charger, pv or battery; the hourly limit is optional and defaults to
    0.5 kWh. Then get the device its own login with POST
    /api/devices/<device id>/credentials; with it the device sends its readings
    over MQTT (port 1884) to ems/devices/<device id>/reading.""",
)

GREETING = rule(
    "greeting",
    "a greeting, and what the chat can help with",
    [
        r"^\W*(hi|hello|hey|hiya|howdy|greetings|good\s+(morning|afternoon|evening)"
        r"|good\s+day)\b(\s+(there|all|everyone|team|support|folks))?"
        r"([\s,.!]+(how\s+are\s+you(\s+doing)?|how'?s\s+it\s+going))?[\s,.!?]*$",
    ],
    """Hello! I'm the EMS support assistant. I can help with adding devices,
    overconsumption notifications, the consumption chart, hourly limits, your
    password, and the new battery, demand-response and trading features. Ask
    your question, or write "talk to a person" to reach our staff.""",
)

#: In the order they are tried: the first that matches answers.
RULES: tuple[Rule, ...] = (
    TALK_TO_PERSON,
    PASSWORD_RESET,
    DEMAND_RESPONSE,
    TRADING,
    BATTERY_SCHEDULE,
    OVERCONSUMPTION,
    CONSUMPTION_CHART,
    CHANGE_LIMIT,
    ADD_DEVICE,
    GREETING,
)
