"""The container that hosts every Nameko service of the platform
(``SERVICE_CONTAINER_CLS``): Nameko's, whose workers know their correlation id
(``services/common/tracing.py``)."""

import logging
import time

from nameko.containers import ServiceContainer

from services.common.tracing import CONTEXT_KEY, begin, end, sane

log = logging.getLogger(__name__)


class TracingContainer(ServiceContainer):
    """Nameko's container, whose workers know their correlation id: a sane one of
    the context they were called with is ``current()`` while they run (and so on
    their log lines); one that is not is dropped, so it is not passed on.

    A worker that works for a request logs one line as it ends (``ran
    devices.create_device in 12.3 ms``), so a request can be followed through
    every service it reached; those of timers and devices' messages, which have
    no id, do not.
    """

    def _run_worker(self, worker_ctx, handle_result):
        correlation_id = sane(worker_ctx.data.get(CONTEXT_KEY))
        if correlation_id is None:
            worker_ctx.data.pop(CONTEXT_KEY, None)
        token = begin(correlation_id)
        started = time.perf_counter()
        try:
            return super()._run_worker(worker_ctx, handle_result)
        finally:
            if correlation_id is not None:
                log.info(
                    "ran %s.%s in %.1f ms",
                    self.service_name,
                    worker_ctx.entrypoint.method_name,
                    1000 * (time.perf_counter() - started),
                )
            end(token)
