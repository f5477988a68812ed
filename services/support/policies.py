"""Who may do what with support conversations: each user reads their own; ADMIN
reads anyone's, sees the inbox and answers; VIEWER reads them and answers none."""

from services.common.policy import ADMIN, VIEWER, Policy

#: Read a conversation: its user, ADMIN and VIEWER.
READ_CONVERSATION = Policy("read", roles=(VIEWER, ADMIN), owner=True)
#: See every conversation, those awaiting staff first.
READ_INBOX = Policy("read_inbox", roles=(VIEWER, ADMIN))
#: Answer a user as staff.
REPLY = Policy("reply", roles=(ADMIN,))
