"""Who may do what with accounts."""

from services.common.policy import ADMIN, READERS, VIEWER, Policy

#: Create, change and delete any account.
MANAGE_USERS = Policy("manage_users", roles=(ADMIN,))
#: List every account, and see any one: ADMIN, and VIEWER, who reads what ADMIN
#: reads.
READ_USERS = Policy("read_users", roles=(VIEWER, ADMIN))
#: Find people by name or e-mail address (to invite them, to answer them).
FIND_USERS = Policy("find_users", roles=READERS)
