"""The ``ems`` command: preparing, running and feeding the platform."""
