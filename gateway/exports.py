"""CSV exports streamed page by page: the gateway answers with the first page it
asked monitoring for (so a bad request or an object out of reach is still a 400 or
a 404), then reads each next page while the client downloads, through a proxy of
its own. The worker's RPC proxies end when the entrypoint returns, before the body
is sent; a standalone proxy, opened and closed by the body's generator, lives as
long as the download. Only one page is ever held."""

import base64
import csv
import io
import logging
import re

from nameko.standalone.rpc import ClusterRpcProxy, StandaloneProxyBase
from werkzeug.wrappers import Response

from services.common.rpc import DEFAULT_TIMEOUT, know_errors_of

log = logging.getLogger(__name__)

ENERGY_COLUMNS = ("start", "import_kwh", "export_kwh", "net_kwh", "cost", "co2_kg")
READING_COLUMNS = (
    "timestamp",
    "reading_id",
    "kwh",
    "export_kwh",
    "power_w",
    "soc_kwh",
)


class GatewayRpcProxy(ClusterRpcProxy):
    """A standalone cluster proxy that receives its answers as the gateway does
    (``rpc.reply-gateway-<uuid>``): the queues the gateway's broker user may
    declare and read."""

    class ServiceContainer(StandaloneProxyBase.ServiceContainer):
        service_name = "gateway"


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def attachment(filename: str, body) -> Response:
    return Response(
        body,
        mimetype="text/csv",
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _pages(config: dict, first: dict, ask, rows_of):
    """The CSV lines of ``first`` and of each page after it, ``ask(cluster,
    next)`` fetching the next; the proxy is opened only if there is one."""
    yield _csv(rows_of(first))
    following = first.get("next")
    if following is None:
        return
    know_errors_of("monitoring")
    timeout = float(config.get("RPC_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        with GatewayRpcProxy(config, timeout=timeout) as cluster:
            while following is not None:
                page = ask(cluster, following)
                yield _csv(rows_of(page))
                following = page.get("next")
    except Exception:
        # Headers are gone: the download ends short, and the client sees it
        # (no terminating chunk).
        log.exception("an export stopped mid-way")
        raise


def energy_csv(config: dict, monitoring_rpc, caller: dict, query: dict) -> Response:
    first = monitoring_rpc.energy_page(caller, query)

    def rows_of(page):
        return [[row[column] for column in ENERGY_COLUMNS] for row in page["series"]]

    def ask(cluster, after):
        return cluster.monitoring.energy_page(caller, query, after)

    def body():
        yield _csv([ENERGY_COLUMNS])
        yield from _pages(config, first, ask, rows_of)

    return attachment(f"energy-{first['scope']}-{first['resolution']}.csv", body())


def readings_csv(config: dict, monitoring_rpc, caller: dict, query: dict) -> Response:
    first = monitoring_rpc.readings_page(caller, query)

    def rows_of(page):
        return [
            ["" if row[c] is None else row[c] for c in READING_COLUMNS]
            for row in page["readings"]
        ]

    def ask(cluster, after):
        return cluster.monitoring.readings_page(caller, query, after)

    def body():
        yield _csv([READING_COLUMNS])
        yield from _pages(config, first, ask, rows_of)

    # The id was validated by monitoring's first answer; kept to what an id spells
    # all the same, since it goes into a header.
    device_id = re.sub(r"[^0-9a-f-]", "", str(query.get("device_id")))
    return attachment(f"readings-{device_id}.csv", body())


def pdf(report: dict) -> Response:
    """A report monitoring made (``{filename, pdf}``, the PDF as base64 text) as
    the PDF file it is."""
    return Response(
        base64.b64decode(report["pdf"]),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{report["filename"]}"'},
    )
