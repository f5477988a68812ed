"""batteries: battery storage, optimal schedules."""

from services.common.health import HealthMixin


class BatteriesService(HealthMixin):
    name = "batteries"
