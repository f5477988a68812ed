"""gateway: the HTTP API behind ``/api``."""
