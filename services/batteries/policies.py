"""Who may do what with batteries: their owner, and staff by role."""

from services.common.policy import ADMIN, ROLES, STAFF, Policy

#: See a battery, its state and its schedules.
READ = Policy("read", roles=STAFF, owner=True)
#: See everyone's batteries in a listing.
READ_ALL = Policy("read_all", roles=STAFF)
#: Charge, discharge or stop a battery.
COMMAND = Policy("command", roles=(ADMIN,), owner=True)
DELETE = Policy("delete", roles=(ADMIN,), owner=True)
#: Add batteries at all (on which device: ``ADD``). Every role: staff may own
#: battery devices too.
CREATE = Policy("create", roles=ROLES)
#: Add a battery on a device: its owner, or ADMIN for them.
ADD = Policy("add", roles=(ADMIN,), owner=True)

#: What the web app is told a caller may do with each battery.
ON_A_BATTERY = (COMMAND, DELETE)
