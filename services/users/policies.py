"""Who may do what with accounts."""

from services.common.policy import ADMIN, STAFF, Policy

#: List, create, change and delete any account.
MANAGE_USERS = Policy("manage_users", roles=(ADMIN,))
#: Find people by name or e-mail address (to invite them, to answer them).
FIND_USERS = Policy("find_users", roles=STAFF)
