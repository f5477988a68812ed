"""Day and month rollups of the hourly totals, on a site's own calendar.

A UTC hour belongs to the local day in which it starts, on the clocks of its
device's site (``tariffs.SiteTerms``): in Europe/Berlin 2026-03-29 has 23 hours
and 2026-10-25 has 25. In a zone whose offset is not whole hours (Asia/Kolkata,
+05:30) a local day begins mid-hour: the UTC hour 18:00–19:00 starts at 23:30 local
and counts wholly in that day, the next one (00:30 local) in the next. A month is
the local month of its days.

The ingest adds to a device's day and month what it adds to its hours, in the same
transaction (``storage.add_to_rollups``), with the same exactly-once guard; when a
site's terms change or a device moves, its rollups are rebuilt from the hourly
totals (``storage.rebuild_rollups``), with the same rules written in SQL.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from services.monitoring.logic import Energy
from services.monitoring.tariffs import DEFAULT, SiteTerms

ZERO = Decimal(0)


@dataclass(frozen=True)
class Amounts:
    """What a bucket (an hour, a day, a month) adds up to."""

    import_kwh: Decimal = ZERO
    export_kwh: Decimal = ZERO
    cost: Decimal = ZERO
    co2_kg: Decimal = ZERO

    def __add__(self, other: "Amounts") -> "Amounts":
        return Amounts(
            self.import_kwh + other.import_kwh,
            self.export_kwh + other.export_kwh,
            self.cost + other.cost,
            self.co2_kg + other.co2_kg,
        )

    @property
    def net_kwh(self) -> Decimal:
        """Drawn less exported: negative when the bucket fed more than it drew."""
        return self.import_kwh - self.export_kwh


def of_hour(hour: datetime, energy: Energy, terms: SiteTerms) -> Amounts:
    """A UTC hour's figures under a site's terms: the one pricing every rollup,
    every hourly answer and every export uses."""
    return Amounts(
        energy.kwh,
        energy.export_kwh,
        terms.cost(hour, energy.kwh, energy.export_kwh),
        terms.co2_kg(energy.kwh),
    )


def local_day(hour: datetime, terms: SiteTerms) -> date:
    """The local day the UTC hour ``hour`` starts in."""
    return terms.local_start(hour).date()


def month_of(day: date) -> date:
    """The first day of ``day``'s month: how a month is keyed."""
    return day.replace(day=1)


def increments(
    added: dict[tuple[str, datetime], Energy], terms: dict[str, SiteTerms]
) -> tuple[dict[tuple[str, date], Amounts], dict[tuple[str, date], Amounts]]:
    """What a batch's hourly increments add to its devices' days and months:
    ``({(device_id, day): Amounts}, {(device_id, month): Amounts})``. A device
    missing from ``terms`` is priced by the default."""
    days: dict[tuple[str, date], Amounts] = {}
    months: dict[tuple[str, date], Amounts] = {}
    for (device_id, hour), energy in added.items():
        site = terms.get(device_id, DEFAULT)
        amounts = of_hour(hour, energy, site)
        day = local_day(hour, site)
        days[(device_id, day)] = days.get((device_id, day), Amounts()) + amounts
        month = month_of(day)
        months[(device_id, month)] = months.get((device_id, month), Amounts()) + amounts
    return days, months
