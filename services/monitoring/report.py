"""A site's monthly report as a PDF (reportlab): the month's energy in and out,
cost and CO2, each day's figures as a chart and a table, the peak hour and the
alerts. It draws what it is given; the service gathers the figures, the same
``/api/energy`` answers."""

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

IMPORT_COLOUR = colors.HexColor("#1e88e5")
EXPORT_COLOUR = colors.HexColor("#43a047")
GRID = colors.HexColor("#b0bec5")
DAY_COLUMNS = ["Day", "Import kWh", "Export kWh", "Net kWh"]
#: The most alerts a report lists; the count says how many there were.
MAX_ALERTS = 30


def _kwh(value: float) -> str:
    return f"{value:,.3f}"


def _table(rows: list[list], widths: list[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
    ]
    if header:
        style.append(("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9))
    table.setStyle(TableStyle(style))
    return table


def _chart(days: list[dict], zone: ZoneInfo) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 12 * mm, 10 * mm
    chart.width, chart.height = 150 * mm, 45 * mm
    chart.data = [
        [day["import_kwh"] for day in days],
        [day["export_kwh"] for day in days],
    ]
    chart.categoryAxis.categoryNames = [
        str(datetime.fromisoformat(day["start"]).astimezone(zone).day) for day in days
    ]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = IMPORT_COLOUR
    chart.bars[1].fillColor = EXPORT_COLOUR
    chart.barSpacing = 0.5
    drawing.add(chart)
    drawing.add(String(12 * mm, 57 * mm, "kWh per day: imported", fontSize=8))
    drawing.add(
        String(48 * mm, 57 * mm, "exported", fontSize=8, fillColor=EXPORT_COLOUR)
    )
    return drawing


def monthly_report(
    site: dict,
    month: str,
    energy: dict,
    peak: dict | None,
    alerts: list[dict],
    generated_at: datetime,
) -> bytes:
    """The PDF of ``site``'s ``month`` (``YYYY-MM``): ``energy`` is the month at
    daily resolution as ``/api/energy`` answers it, ``peak`` the hour of most
    import (``{hour, import_kwh}``), ``alerts`` the month's notifications
    (``{created_at, message}``), newest first."""
    zone = ZoneInfo(site["timezone"])
    currency = energy["currency"]
    styles = getSampleStyleSheet()
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"{site['name']}: energy report {month}",
        author="EMS",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    totals = energy["totals"]
    story = [
        Paragraph(f"{site['name']}: energy report for {month}", styles["Title"]),
        Paragraph(
            f"{site.get('address') or ''} · time zone {site['timezone']} · "
            f"made {generated_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        _table(
            [
                ["Imported", f"{_kwh(totals['import_kwh'])} kWh"],
                ["Exported", f"{_kwh(totals['export_kwh'])} kWh"],
                ["Net", f"{_kwh(totals['net_kwh'])} kWh"],
                ["Cost", f"{totals['cost']:,.2f} {currency}"],
                ["CO2", f"{totals['co2_kg']:,.2f} kg"],
                ["Peak hour", _peak(peak, zone)],
                ["Alerts", str(len(alerts))],
            ],
            [50 * mm, 70 * mm],
            header=False,
        ),
        Spacer(1, 6 * mm),
        _chart(energy["series"], zone),
        Spacer(1, 4 * mm),
        _table(
            [DAY_COLUMNS[:4] + [f"Cost {currency}", "CO2 kg"]]
            + [
                [
                    _local(day["start"], zone, "%a %d"),
                    _kwh(day["import_kwh"]),
                    _kwh(day["export_kwh"]),
                    _kwh(day["net_kwh"]),
                    f"{day['cost']:,.2f}",
                    f"{day['co2_kg']:,.3f}",
                ]
                for day in energy["series"]
            ],
            [25 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm, 28 * mm],
        ),
    ]
    if alerts:
        story += [
            Spacer(1, 6 * mm),
            Paragraph("Alerts", styles["Heading2"]),
            _table(
                [["When", "What"]]
                + [
                    [
                        _local(alert["created_at"], zone, "%d %b %H:%M"),
                        Paragraph(alert["message"], styles["Normal"]),
                    ]
                    for alert in alerts[:MAX_ALERTS]
                ],
                [30 * mm, 135 * mm],
            ),
        ]
        if len(alerts) > MAX_ALERTS:
            story.append(
                Paragraph(
                    f"and {len(alerts) - MAX_ALERTS} more (GET /api/notifications).",
                    styles["Normal"],
                )
            )
    document.build(story)
    return buffer.getvalue()


def _local(iso: str, zone: ZoneInfo, pattern: str) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime(pattern)


def _peak(peak: dict | None, zone: ZoneInfo) -> str:
    if peak is None:
        return "none"
    start = _local(peak["hour"], zone, "%d %b %H:%M")
    return f"{start} ({_kwh(peak['import_kwh'])} kWh)"
