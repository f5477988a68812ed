"""Who may do what with batteries: their owner, the people of the site their
device is on by their role there, and staff by role; VIEWER reads every battery
and changes none."""

from services.common.policy import (
    ADMIN,
    READERS,
    SITE_OWNER,
    SITE_ROLES,
    SITE_WRITERS,
    WRITERS,
    Policy,
)

#: See a battery, its state and its schedules.
READ = Policy("read", roles=READERS, owner=True, site_roles=SITE_ROLES)
#: See everyone's batteries in a listing.
READ_ALL = Policy("read_all", roles=READERS)
#: Charge, discharge or stop a battery, switch its control, plan it: those who run
#: its site too.
COMMAND = Policy("command", roles=(ADMIN,), owner=True, site_roles=SITE_WRITERS)
DELETE = Policy("delete", roles=(ADMIN,), owner=True, site_roles=(SITE_OWNER,))
#: Add batteries at all (on which device: ``ADD``). Every role that changes
#: anything: staff may own battery devices too; VIEWER owns nothing.
CREATE = Policy("create", roles=WRITERS)
#: Add a battery on a device: its owner, those who run its site, or ADMIN.
ADD = Policy("add", roles=(ADMIN,), owner=True, site_roles=SITE_WRITERS)

#: What the web app is told a caller may do with each battery.
ON_A_BATTERY = (COMMAND, DELETE)
