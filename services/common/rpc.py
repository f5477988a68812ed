"""RPC with a deadline, for callers that must answer someone (the gateway).

Nameko's ``RpcProxy`` waits for a reply forever: a request for a service that is
down sits in its queue until the service returns. ``TimedRpcProxy`` gives up after
``RPC_TIMEOUT`` seconds with ``RpcTimeout``, which the error mapping answers 503.
The request message expires after as long, so a service that comes back does not
act on a request whose caller was already told it failed.
"""

from importlib import import_module
from importlib.util import find_spec

import eventlet
from nameko import rpc
from nameko.exceptions import BadRequest, RemoteError, RpcTimeout, UnknownService

from services.common.errors import EmsError

DEFAULT_TIMEOUT = 10.0
#: What a call to a service that is optional to the caller may fail with and still
#: mean only "that service cannot say now": the service missing (``UnknownService``),
#: slow (``RpcTimeout``), not offering the call or its arguments (``BadRequest``),
#: failing (``RemoteError``, or an error of ours).
OPTIONAL_CALL_FAILURES = (UnknownService, RpcTimeout, BadRequest, RemoteError, EmsError)


class _TimedService:
    def __init__(self, proxy, timeout: float):
        self._proxy = proxy
        self._timeout = timeout

    def __getattr__(self, method):
        remote = getattr(self._proxy, method)

        def call(*args, **kwargs):
            with eventlet.Timeout(self._timeout, RpcTimeout(method)):
                return remote(*args, **kwargs)

        call.call_async = remote.call_async
        return call


def know_errors_of(service: str) -> None:
    """Register ``services.<service>.exceptions``, so that RPC hands that service's
    errors back as themselves (and the error mapping sees their status) rather than
    as a ``RemoteError``: a caller that did not know them would answer 500."""
    if find_spec(f"services.{service}.exceptions") is not None:
        import_module(f"services.{service}.exceptions")


class RpcProxy(rpc.RpcProxy):
    """Nameko's ``RpcProxy``, knowing the errors of the service it calls."""

    def __init__(self, target_service, **options):
        know_errors_of(target_service)
        super().__init__(target_service, **options)


class TimedRpcProxy(RpcProxy):
    """``RpcProxy(service)`` whose calls give up after the setting ``timeout_setting``
    (``RPC_TIMEOUT`` unless a service's calls need longer)."""

    def __init__(self, target_service, timeout_setting="RPC_TIMEOUT", **options):
        self.timeout_setting = timeout_setting
        super().__init__(target_service, **options)

    def setup(self):
        super().setup()
        config = self.container.config
        self.timeout = float(
            config.get(self.timeout_setting, config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
        )
        self.options["expiration"] = self.timeout

    def get_dependency(self, worker_ctx):
        return _TimedService(super().get_dependency(worker_ctx), self.timeout)
