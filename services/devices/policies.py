"""Who may do what with devices and sites: a device's owner and the members of its
site by their role there, and staff by role; VIEWER reads every device and site
and changes none."""

from services.common.policy import (
    ADMIN,
    READERS,
    SITE_OWNER,
    SITE_ROLES,
    SITE_WRITERS,
    STAFF,
    WRITERS,
    Policy,
)

# -- devices ---------------------------------------------------------------------

#: Add a device of one's own. Every role that changes anything: staff may own
#: devices too (and sell what they deliver); VIEWER owns nothing.
CREATE = Policy("create", roles=WRITERS)
#: See a device, its readings and the commands sent to it.
READ = Policy("read", roles=READERS, owner=True, site_roles=SITE_ROLES)
#: See everyone's devices, and so their owners, in a listing.
READ_ALL = Policy("read_all", roles=READ.roles)
#: Rename, change, move or delete a device.
UPDATE = Policy("update", roles=(ADMIN,), owner=True, site_roles=SITE_WRITERS)
DELETE = Policy("delete", roles=(ADMIN,), owner=True, site_roles=(SITE_OWNER,))
#: Issue or rotate a device's broker login.
ISSUE_CREDENTIALS = Policy(
    "issue_credentials", roles=(ADMIN,), owner=True, site_roles=(SITE_OWNER,)
)
#: Send a device a command (switch it, set a battery's power): its owner, those
#: who run its site, and the staff, who run demand response.
COMMAND = Policy("command", roles=STAFF, owner=True, site_roles=SITE_WRITERS)
#: Add a device for another user.
ADD_FOR_OTHERS = Policy("add_for_others", roles=(ADMIN,))

#: What the web app is told a caller may do with each device.
ON_A_DEVICE = (UPDATE, DELETE, ISSUE_CREDENTIALS, COMMAND)

# -- sites, their rooms and members ----------------------------------------------

#: Create a site, of which one becomes the owner.
CREATE_SITE = Policy("create_site", roles=WRITERS)
#: See a site, its rooms and its members.
READ_SITE = Policy("read_site", roles=READERS, site_roles=SITE_ROLES)
#: See every site in a listing, not only one's own.
READ_ALL_SITES = Policy("read_all_sites", roles=READERS)
#: Change a site (its name, place, time zone, tariff), and put devices in it.
UPDATE_SITE = Policy("update_site", roles=(ADMIN,), site_roles=SITE_WRITERS)
#: Add, rename and delete a site's rooms.
MANAGE_ROOMS = Policy("manage_rooms", roles=(ADMIN,), site_roles=SITE_WRITERS)
#: Add members, change their roles, remove them.
MANAGE_MEMBERS = Policy("manage_members", roles=(ADMIN,), site_roles=(SITE_OWNER,))
#: Delete a site, with its rooms and devices.
DELETE_SITE = Policy("delete_site", roles=(ADMIN,), site_roles=(SITE_OWNER,))

#: What the web app is told a caller may do with each site.
ON_A_SITE = (UPDATE_SITE, MANAGE_ROOMS, MANAGE_MEMBERS, DELETE_SITE)
