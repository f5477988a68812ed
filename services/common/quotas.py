"""Per-user quotas: the arithmetic of a limit per time window, shared by services.

A quota on what a user owns (devices, open orders) is a count taken under a lock,
kept by each service; a quota on how often a user may do something (support
messages, AI calls) counts the user's recent rows in the service's database, so
that every process of the service sees the same count.
"""

from datetime import datetime, timedelta


def retry_after(
    times: list[datetime], limit: int, window: timedelta, now: datetime
) -> int | None:
    """Seconds until one more action fits in the window, or None if one fits now.

    ``times`` are the user's latest actions, oldest first: at least the last
    ``limit`` of them, if there are that many; older ones do not matter. Once
    ``limit`` of them are within ``window`` before ``now``, the next fits when the
    oldest of the last ``limit`` leaves the window.
    """
    if limit <= 0:
        return int(window.total_seconds())
    times = [moment for moment in times if moment > now - window]
    if len(times) < limit:
        return None
    free_at = times[-limit] + window
    return max(1, int((free_at - now).total_seconds()) + 1)
