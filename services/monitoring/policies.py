"""Who may do what with monitoring's data: a device's consumption and status are its
owner's and staff's to read; the dead letters are ADMIN's."""

from services.common.policy import ADMIN, STAFF, Policy

#: See a device's hourly consumption, its forecast and its backtest.
READ_CONSUMPTION = Policy("read_consumption", roles=STAFF, owner=True)
#: See a device's status (online, last seen, newest power and state of charge);
#: staff see every device's.
READ_STATUS = Policy("read_status", roles=STAFF, owner=True)
#: List, inspect, replay, delete and purge the platform's dead letters.
MANAGE_DEAD_LETTERS = Policy("manage_dead_letters", roles=(ADMIN,))
