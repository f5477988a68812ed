"""ws_gateway: the WebSocket server behind Traefik's ``/ws``.

Browsers connect with ``/ws?token=<JWT>``; every message published on ``ems.ws``
reaches the sockets of the user or role its routing key names. A plain Tornado
process (no eventlet): ``python -m ws_gateway``.
"""
