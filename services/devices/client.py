"""What services that issue commands (batteries' auto mode, dr's dispatch) ask of
devices about them, shared so each shows the same thing when devices is away."""

import logging

from nameko.exceptions import RemoteError

from services.common.errors import EmsError
from services.common.messaging import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


def commands_now(devices_rpc, command_ids: list[str]) -> dict[str, dict]:
    """``{command_id: command}`` for those of ``command_ids`` devices knows, as
    they stand now, in one call; ``{}`` when there are none or devices cannot
    say now (the caller shows what it stored)."""
    if not command_ids:
        return {}
    try:
        found = devices_rpc.get_commands(command_ids)
    except (*TRANSIENT_ERRORS, RemoteError, EmsError) as exc:
        log.warning("%d commands unread: %s", len(command_ids), exc)
        return {}
    return {command["id"]: command for command in found}
