"""The ``health`` RPC every service answers, so the gateway can report on it."""

from nameko.rpc import rpc


class HealthMixin:
    """Adds ``health()``: ``{"status": "ok"}`` once the service can reach its DB."""

    @rpc
    def health(self):
        storage = getattr(self, "storage", None)
        if storage is not None:
            storage.ping()
        return {"status": "ok"}
