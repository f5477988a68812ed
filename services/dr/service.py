"""dr: demand-response events."""

from services.common.health import HealthMixin


class DrService(HealthMixin):
    name = "dr"
