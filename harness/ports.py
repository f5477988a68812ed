"""Free ports on the loopback interface, and whether something listens on one."""

import random
import socket

#: Where test stacks' fixed ports are picked: below the kernel's ephemeral range
#: (32768 and up on Linux), from which every process that binds port 0 (each
#: metrics server) is given one. A port picked there could be taken by such a
#: process before the one it was picked for starts.
LOWEST, HIGHEST = 20000, 32767
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, not handed out before by this process."""
    while True:
        port = random.randint(LOWEST, HIGHEST)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
