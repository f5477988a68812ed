"""The e-mail a stack sent, as its maildev received it (REST API ``/api/email``)."""

import re

import requests

from harness.polling import eventually
from harness.stack import Stack

#: The token of a link the platform e-mails (``…#token=<token>``).
LINK_TOKEN = re.compile(r"#token=([A-Za-z0-9_\-]+)")


def inbox(stack: Stack) -> list[dict]:
    """Every e-mail maildev holds, oldest first; none while it is not up."""
    try:
        response = requests.get(f"{stack.inbox_url}/api/email", timeout=5)
    except requests.ConnectionError:
        return []
    return response.json() if response.ok else []


def mails_to(stack: Stack, address: str) -> list[dict]:
    return [
        mail
        for mail in inbox(stack)
        if any(to["address"].lower() == address.lower() for to in mail["to"])
    ]


def wait_for_mail(stack: Stack, address: str, count: int = 1, timeout: float = 60):
    """The ``count``-th e-mail to ``address``, once it has arrived."""
    mails = eventually(
        lambda: (found := mails_to(stack, address)) and len(found) >= count and found,
        timeout=timeout,
    )
    return mails[count - 1]


def link_token(mail: dict) -> str:
    match = LINK_TOKEN.search(mail["text"])
    assert match, mail["text"]
    return match.group(1)
