"""devices: metered devices, their owners and hourly limits."""
