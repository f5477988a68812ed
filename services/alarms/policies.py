"""Who may do what with alarms and their rules: an alarm or a rule belongs to its
device's owner and to the members of its site by their role there; staff see
every alarm, OPERATOR and ADMIN act on them; VIEWER watches."""

from services.common.policy import (
    ADMIN,
    READERS,
    SITE_ROLES,
    SITE_WRITERS,
    STAFF,
    WRITERS,
    Policy,
)

#: See an alarm or a rule.
READ = Policy("read", roles=READERS, owner=True, site_roles=SITE_ROLES)
#: See every alarm in a listing, not only those of one's devices and sites.
READ_ALL = Policy("read_all", roles=READERS)
#: Acknowledge an alarm, clear it by hand.
ACKNOWLEDGE = Policy("acknowledge", roles=STAFF, owner=True, site_roles=SITE_WRITERS)
CLEAR = Policy("clear", roles=STAFF, owner=True, site_roles=SITE_WRITERS)
#: Add rules at all: every role that changes anything (VIEWER watches), on the
#: devices, rooms and sites ``MANAGE_RULES`` lets them.
CREATE_RULES = Policy("create_rules", roles=WRITERS)
#: Add, change and delete the rules of a device, a room or a site.
MANAGE_RULES = Policy(
    "manage_rules", roles=(ADMIN,), owner=True, site_roles=SITE_WRITERS
)
#: Rules on every device of a kind, wherever it stands.
MANAGE_GLOBAL_RULES = Policy("manage_global_rules", roles=STAFF)

#: What the web app is told a caller may do with each alarm.
ON_AN_ALARM = (ACKNOWLEDGE, CLEAR)
