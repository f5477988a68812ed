"""Who may do what with monitoring's data: a device's consumption and status are its
owner's, staff's and VIEWER's to read; the dead letters are ADMIN's."""

from services.common.policy import ADMIN, READERS, Policy

#: See a device's hourly consumption, its forecast and its backtest, and its
#: energy, cost and CO2 over a range (a site's members too: ``scopes.py``).
READ_CONSUMPTION = Policy("read_consumption", roles=READERS, owner=True)
#: See a device's status (online, last seen, newest power and state of charge);
#: staff and VIEWER see every device's.
READ_STATUS = Policy("read_status", roles=READERS, owner=True)
#: List, inspect, replay, delete and purge the platform's dead letters. ADMIN
#: only, VIEWER not: a dead letter's body is raw traffic (devices' readings,
#: users' messages), a tool for repairing the platform rather than a view of it.
MANAGE_DEAD_LETTERS = Policy("manage_dead_letters", roles=(ADMIN,))
