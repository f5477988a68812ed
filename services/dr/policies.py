"""Who may do what with demand-response events: staff run them, VIEWER watches
them; a user answers and sees the events they are invited to (their invitation is
their own)."""

from services.common.policy import READERS, STAFF, Policy

#: Announce an event, cancel it, invite users to it.
CREATE = Policy("create", roles=STAFF)
CANCEL = Policy("cancel", roles=STAFF)
INVITE = Policy("invite", roles=STAFF)
#: The reduction on offer: every opted-in user's load and batteries.
SEE_FLEXIBILITY = Policy("see_flexibility", roles=READERS)
#: See every event with all its invitations, every participant's results, and be
#: told of every answer; anyone else sees only what they are invited to.
READ_ALL = Policy("read_all", roles=READERS)
