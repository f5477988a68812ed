"""What a site's energy costs and emits: its tariff (flat prices, or time-of-use
periods of local hours), its grid's CO2 intensity, and the time zone its days are
counted in. A device whose site monitoring does not know (yet) is priced by
``DEFAULT``: UTC, the default tariff and intensity.

Prices and intensities are kept as ``Decimal`` (from the JSON text of the site's
numbers), so cost and CO2 are exact products of the exact hourly totals: a day's
cost is the sum of its hours' to the last digit, however it was computed.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Prices and intensity of a site monitoring does not know: those the devices
#: service gives a new site by default.
DEFAULT_CURRENCY = "EUR"
DEFAULT_IMPORT_PER_KWH = Decimal("0.30")
DEFAULT_EXPORT_PER_KWH = Decimal("0.08")
DEFAULT_CO2_KG_PER_KWH = Decimal("0.4")
DEFAULT_TIMEZONE = "UTC"


def price(value) -> Decimal:
    """A JSON number as the exact decimal its text spells (``0.3``, not the binary
    float nearest to it)."""
    return Decimal(str(value))


@dataclass(frozen=True)
class Period:
    """Local hours ``[start_hour, end_hour)`` with prices of their own."""

    start_hour: int
    end_hour: int
    import_per_kwh: Decimal
    export_per_kwh: Decimal

    def covers(self, local_hour: int) -> bool:
        return self.start_hour <= local_hour < self.end_hour


@dataclass(frozen=True)
class Tariff:
    currency: str = DEFAULT_CURRENCY
    import_per_kwh: Decimal = DEFAULT_IMPORT_PER_KWH
    export_per_kwh: Decimal = DEFAULT_EXPORT_PER_KWH
    periods: tuple[Period, ...] = ()

    @classmethod
    def from_dict(cls, tariff: dict | None) -> "Tariff":
        """A tariff as the devices service dumps it; the default for None."""
        if not tariff:
            return cls()
        return cls(
            tariff.get("currency") or DEFAULT_CURRENCY,
            price(tariff.get("import_per_kwh", DEFAULT_IMPORT_PER_KWH)),
            price(tariff.get("export_per_kwh", DEFAULT_EXPORT_PER_KWH)),
            tuple(
                sorted(
                    (
                        Period(
                            int(period["start_hour"]),
                            int(period["end_hour"]),
                            price(period["import_per_kwh"]),
                            price(period["export_per_kwh"]),
                        )
                        for period in tariff.get("periods") or ()
                    ),
                    key=lambda period: period.start_hour,
                )
            ),
        )

    def prices_at(self, local_hour: int) -> tuple[Decimal, Decimal]:
        """``(import, export)`` per kWh in the local hour starting ``local_hour``
        (0–23): its period's, else the flat prices."""
        for period in self.periods:
            if period.covers(local_hour):
                return period.import_per_kwh, period.export_per_kwh
        return self.import_per_kwh, self.export_per_kwh


@dataclass(frozen=True)
class SiteTerms:
    """What a site's figures are computed by: its time zone, tariff and CO2
    intensity of the energy drawn from the grid."""

    timezone: str = DEFAULT_TIMEZONE
    tariff: Tariff = field(default_factory=Tariff)
    co2_kg_per_kwh: Decimal = DEFAULT_CO2_KG_PER_KWH

    @classmethod
    def of_site(cls, site: dict | None) -> "SiteTerms":
        """A site's terms as the devices service dumps it; ``DEFAULT`` for None."""
        if site is None:
            return DEFAULT
        return cls(
            site.get("timezone") or DEFAULT_TIMEZONE,
            Tariff.from_dict(site.get("tariff")),
            price(site.get("co2_kg_per_kwh", DEFAULT_CO2_KG_PER_KWH)),
        )

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def local_start(self, hour: datetime) -> datetime:
        """When the UTC hour ``hour`` starts, on the site's clocks."""
        return hour.astimezone(self.zone)

    def cost(self, hour: datetime, import_kwh: Decimal, export_kwh: Decimal):
        """The cost of a UTC hour's energy: drawn at the import price less fed in
        at the export price, both those of the local hour the UTC hour starts in.
        Negative when the hour earned more than it cost."""
        imported, exported = self.tariff.prices_at(self.local_start(hour).hour)
        return import_kwh * imported - export_kwh * exported

    def co2_kg(self, import_kwh: Decimal) -> Decimal:
        """The CO2 of the energy drawn from the grid (exports offset none)."""
        return import_kwh * self.co2_kg_per_kwh


DEFAULT = SiteTerms()


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; UTC for a name this machine does not know (a site
    is kept whatever its zone, and its figures are then counted in UTC)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
