"""Who may do what with devices: their owner, and staff by role; VIEWER reads
every device and changes none."""

from services.common.policy import ADMIN, READERS, STAFF, WRITERS, Policy

#: Add a device of one's own. Every role that changes anything: staff may own
#: devices too (and sell what they deliver); VIEWER owns nothing.
CREATE = Policy("create", roles=WRITERS)
#: See a device, its readings and the commands sent to it.
READ = Policy("read", roles=READERS, owner=True)
#: See everyone's devices, and so their owners, in a listing.
READ_ALL = Policy("read_all", roles=READ.roles)
#: Rename, change or delete a device.
UPDATE = Policy("update", roles=(ADMIN,), owner=True)
DELETE = Policy("delete", roles=(ADMIN,), owner=True)
#: Issue or rotate a device's broker login.
ISSUE_CREDENTIALS = Policy("issue_credentials", roles=(ADMIN,), owner=True)
#: Send a device a command (switch it, set a battery's power): its owner, and
#: the staff, who run demand response.
COMMAND = Policy("command", roles=STAFF, owner=True)
#: Add a device for another user.
ADD_FOR_OTHERS = Policy("add_for_others", roles=(ADMIN,))

#: What the web app is told a caller may do with each device.
ON_A_DEVICE = (UPDATE, DELETE, ISSUE_CREDENTIALS, COMMAND)
