"""``configured_timer``: Nameko's timer, its interval a setting of the service."""

from nameko.timer import Timer


class ConfiguredTimer(Timer):
    """Fires every ``<setting>`` seconds of the service's configuration, or
    ``default`` seconds when the configuration names none."""

    def __init__(self, setting: str, default: float, **kwargs):
        self.setting = setting
        super().__init__(interval=default, **kwargs)

    def setup(self):
        self.interval = float(self.container.config.get(self.setting, self.interval))
        super().setup()


configured_timer = ConfiguredTimer.decorator
