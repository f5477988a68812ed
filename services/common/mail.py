"""E-mail from any service: ``outgoing(to, subject, text)`` is the payload to
``dispatch(MAIL_SEND, …)`` on ``ems.sync``; the mail service sends it (and keeps it
queued while the SMTP server is down)."""


def outgoing(to: str, subject: str, text: str) -> dict:
    return {"to": to, "subject": subject, "text": text}
