"""users: the accounts of the platform and their roles."""
