"""Who may read the audit log: ADMIN alone."""

from services.common.policy import ADMIN, Policy

#: Read the audit log, every record of it.
READ = Policy("read", roles=(ADMIN,))
