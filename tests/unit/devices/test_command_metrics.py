"""Commands are counted by the statuses they reach, once those are committed."""

from datetime import UTC, datetime
from types import SimpleNamespace

from services.common.metrics import REGISTRY
from services.devices.storage import DeviceStore


class Session:
    def __init__(self):
        self.added, self.commits = [], 0

    def add(self, row):
        self.added.append(row)

    def commit(self):
        self.commits += 1


def count(status):
    return REGISTRY.get_sample_value("ems_commands_total", {"status": status}) or 0


def command(status):
    return SimpleNamespace(id="c1", status=status, detail=None)


def test_statuses_count_when_committed_and_once():
    store = DeviceStore(Session())
    now = datetime.now(UTC)
    before = count("pending"), count("acked")
    store._record(command("pending"), now)
    store._record(command("acked"), now)
    assert (count("pending"), count("acked")) == before
    store.commit()
    assert (count("pending") - before[0], count("acked") - before[1]) == (1, 1)
    store.commit()
    assert (count("pending") - before[0], count("acked") - before[1]) == (1, 1)
