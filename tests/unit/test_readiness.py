"""/ready's registry check: a probe must answer at once even while the registry takes seconds to fail."""

from __future__ import annotations

import threading

from adapters.memory import FakeClock, InMemoryCustomerRepository
from adapters.memory_registry import InMemoryModelRegistry
from adapters.model_cache import LruModelCache
from churn.errors import RegistryUnavailableError
from churn.services.active_model import ActiveModel
from churn.use_cases.check_readiness import CheckReadiness


class FlakyRegistry(InMemoryModelRegistry):
    """Counts reads of the active pointer; while `down`, fails them as MLflow does once its retries run out."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.reads = 0

    def active(self):
        self.reads += 1
        if self.down:
            raise RegistryUnavailableError("model registry unreachable: connection refused")
        return super().active()


def readiness() -> tuple[CheckReadiness, ActiveModel, FlakyRegistry, FakeClock]:
    registry, clock = FlakyRegistry(), FakeClock()
    active = ActiveModel(registry, LruModelCache(capacity=1), clock, refresh_seconds=5.0)
    return CheckReadiness(InMemoryCustomerRepository(), registry, active), active, registry, clock


def test_a_recent_failed_read_by_the_follower_is_reported_without_asking_the_registry_again():
    check, active, registry, _ = readiness()
    registry.down = True
    active.refresh()  # the background follower's read
    reads = registry.reads

    result = check.execute()

    assert registry.reads == reads
    assert not result.ready
    assert result.checks["registry"] == "model registry unreachable: connection refused"


def test_the_registry_is_asked_when_the_follower_has_not_read_it_lately():
    check, active, registry, clock = readiness()
    active.refresh()
    registry.down = True
    clock.advance(11)  # more than two refresh intervals: the follower is not running

    result = check.execute()

    assert result.checks["registry"] == "model registry unreachable: connection refused"
    assert registry.reads >= 2


def test_a_registry_back_up_is_ok_at_the_follower_s_next_read():
    check, active, registry, _ = readiness()
    registry.down = True
    active.refresh()
    registry.down = False
    active.refresh()

    assert check.execute().checks["registry"] == "ok"


class HeldRead(FlakyRegistry):
    """Down. Once `seconds` is set, the next read stays under way until `release` is set, having
    spent `seconds` of the fake clock on retries; any other read fails at once."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        super().__init__()
        self.down, self.clock, self.seconds = True, clock, seconds
        self.held = False
        self.reading, self.release, self.settled = threading.Event(), threading.Event(), threading.Event()

    def active(self):
        if self.seconds and not self.held:  # the held read
            self.held = True
            self.clock.advance(self.seconds)
            self.reading.set()
            self.release.wait()
        elif self.held and not self.release.is_set():
            self.settled.set()  # a read while the held one is under way: the probe asked the registry itself
        return super().active()


def test_while_a_slow_read_is_under_way_the_last_one_answers():
    clock = FakeClock()
    registry = HeldRead(clock, seconds=0)
    active = ActiveModel(registry, LruModelCache(capacity=1), clock, refresh_seconds=2.0)
    check = CheckReadiness(InMemoryCustomerRepository(), registry, active)
    active.refresh()  # the follower's last read: failed
    registry.seconds = 15  # the next takes 15 s of retries: longer than two refresh intervals
    clock.advance(1)
    follower = threading.Thread(target=active.refresh)
    follower.start()
    registry.reading.wait()
    probed = []
    probe = threading.Thread(target=lambda: (probed.append(check.execute()), registry.settled.set()))
    probe.start()
    registry.settled.wait()  # the probe answered, or asked the registry itself
    registry.release.set()
    follower.join()
    probe.join()

    assert registry.reads == 2  # the follower's two reads: none by the probe
    assert [r.checks["registry"] for r in probed] == ["model registry unreachable: connection refused"]
