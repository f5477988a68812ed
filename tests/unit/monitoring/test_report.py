from datetime import UTC, datetime
from io import BytesIO

from pypdf import PdfReader

from services.monitoring.report import MAX_ALERTS, monthly_report

SITE = {"name": "Riverside", "address": "1 Quay", "timezone": "Europe/Berlin"}


def day(start, imported, exported=0.0):
    return {
        "start": start,
        "import_kwh": imported,
        "export_kwh": exported,
        "net_kwh": imported - exported,
        "cost": imported * 0.3 - exported * 0.08,
        "co2_kg": imported * 0.4,
    }


def month_of_days():
    # October 2026 in Berlin: Sunday the 25th has 25 hours, and the days after it
    # begin at +01:00.
    days = []
    for index in range(31):
        offset = "+01:00" if index >= 25 else "+02:00"
        local = f"2026-10-{index + 1:02d}T00:00:00{offset}"
        days.append(day(local, 10.0 + index, 1.0))
    totals = {
        name: sum(one[name] for one in days)
        for name in ("import_kwh", "export_kwh", "net_kwh", "cost", "co2_kg")
    }
    return {"currency": "EUR", "series": days, "totals": totals}


def text_of(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    # One space for any run of spaces and line breaks: a table's cells may come
    # out on lines of their own.
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_report_gives_the_month_s_figures_and_each_day():
    energy = month_of_days()
    pdf = monthly_report(
        SITE,
        "2026-10",
        energy,
        {"hour": "2026-10-12T17:00:00+00:00", "import_kwh": 3.25},
        [{"created_at": "2026-10-03T08:15:00+00:00", "message": "Fridge over 2 kWh"}],
        datetime(2026, 11, 1, 6, tzinfo=UTC),
    )
    assert pdf.startswith(b"%PDF")
    text = text_of(pdf)
    assert "Riverside: energy report for 2026-10" in text
    assert f"{energy['totals']['import_kwh']:,.3f} kWh" in text
    assert f"{energy['totals']['cost']:,.2f} EUR" in text
    # Each day by its local date, the 25-hour day included.
    assert "Sun 25" in text and "Sat 31" in text
    # The peak hour in the site's time: 17:00 UTC is 19:00 in Berlin that day.
    assert "12 Oct 19:00 (3.250 kWh)" in text
    assert "Fridge over 2 kWh" in text


def test_a_month_with_many_alerts_lists_the_first_and_counts_the_rest():
    alerts = [
        {"created_at": "2026-10-03T08:15:00+00:00", "message": f"alert {n}"}
        for n in range(MAX_ALERTS + 5)
    ]
    text = text_of(
        monthly_report(
            SITE, "2026-10", month_of_days(), None, alerts, datetime.now(UTC)
        )
    )
    assert f"alert {MAX_ALERTS - 1}" in text
    assert f"alert {MAX_ALERTS}" not in text
    assert "and 5 more" in text
    assert "Peak hour none" in text
