"""Who may do what with batteries: their owner, and staff by role; VIEWER reads
every battery and changes none."""

from services.common.policy import ADMIN, READERS, WRITERS, Policy

#: See a battery, its state and its schedules.
READ = Policy("read", roles=READERS, owner=True)
#: See everyone's batteries in a listing.
READ_ALL = Policy("read_all", roles=READERS)
#: Charge, discharge or stop a battery.
COMMAND = Policy("command", roles=(ADMIN,), owner=True)
DELETE = Policy("delete", roles=(ADMIN,), owner=True)
#: Add batteries at all (on which device: ``ADD``). Every role that changes
#: anything: staff may own battery devices too; VIEWER owns nothing.
CREATE = Policy("create", roles=WRITERS)
#: Add a battery on a device: its owner, or ADMIN for them.
ADD = Policy("add", roles=(ADMIN,), owner=True)

#: What the web app is told a caller may do with each battery.
ON_A_BATTERY = (COMMAND, DELETE)
