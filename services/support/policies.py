"""Who may do what with support conversations: each user reads their own; ADMIN
reads anyone's, sees the inbox and answers."""

from services.common.policy import ADMIN, Policy

#: Read a conversation: its user, and ADMIN.
READ_CONVERSATION = Policy("read", roles=(ADMIN,), owner=True)
#: See every conversation, those awaiting staff first.
READ_INBOX = Policy("read_inbox", roles=(ADMIN,))
#: Answer a user as staff.
REPLY = Policy("reply", roles=(ADMIN,))
