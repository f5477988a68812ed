"""auth's password hashing pool: bounded, and refusing at once when full."""

import os

import eventlet
import pytest
from eventlet.event import Event

from services.auth import dependencies
from services.auth.dependencies import PasswordHashing
from services.auth.exceptions import HashingBusy


@pytest.fixture
def gate(monkeypatch):
    """Hashes that run until the gate opens; how many ran at most at once."""
    opened = Event()
    state = {"running": 0, "most": 0}

    def execute(function, *args):
        assert function is dependencies.lower_priority
        state["running"] += 1
        state["most"] = max(state["most"], state["running"])
        opened.wait()
        state["running"] -= 1
        return "hashed"

    monkeypatch.setattr(dependencies.tpool, "execute", execute)
    return opened, state


def test_at_most_threads_hash_at_once_and_a_few_more_wait(gate):
    opened, state = gate
    hashing = PasswordHashing(threads=2, max_waiting=3)
    running = [eventlet.spawn(hashing.hash, "password") for _ in range(5)]
    eventlet.sleep(0)
    assert state["running"] == 2
    assert hashing.waiting == 3
    with pytest.raises(HashingBusy) as caught:
        hashing.hash("one too many")
    assert caught.value.details["retry_after"] == 1
    opened.send()
    assert [thread.wait() for thread in running] == ["hashed"] * 5
    assert state["most"] == 2
    assert hashing.waiting == 0


def test_a_wrong_password_is_false_not_an_error():
    hashing = PasswordHashing(threads=1, max_waiting=0)
    password_hash = hashing.hash("password1")
    assert hashing.verify(password_hash, "password1")
    assert not hashing.verify(password_hash, "password2")
    assert not hashing.verify("not a hash", "password1")


def test_a_hash_runs_in_a_nicer_thread_than_the_caller():
    # A real OS thread: the tests run with eventlet's patched (green) threading.
    threading = eventlet.patcher.original("threading")
    seen = {}

    def priority_here():
        return os.getpriority(os.PRIO_PROCESS, 0)

    def in_thread():
        seen["hashing"] = dependencies.lower_priority(5, priority_here)

    before = os.getpriority(os.PRIO_PROCESS, 0)
    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert seen["hashing"] == max(before, 5)
    # Only that thread was made nicer.
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
