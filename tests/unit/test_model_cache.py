import threading
import time

from adapters.model_cache import LruModelCache
from churn.versions import ModelRef

A, B, C = ModelRef("m", 1), ModelRef("m", 2), ModelRef("m", 3)


def test_least_recently_used_model_is_evicted_but_never_the_pinned_one():
    cache = LruModelCache(capacity=2)
    loaded = []

    def load(ref: ModelRef) -> str:
        loaded.append(ref)
        return f"model-{ref.version}"

    cache.get_or_load(A, load)
    cache.pin(A)
    cache.get_or_load(B, load)
    cache.get_or_load(C, load)
    assert set(cache.cached()) == {A, C}
    assert cache.get_or_load(A, load) == "model-1"
    assert loaded == [A, B, C]


def test_concurrent_requests_for_one_version_load_it_once():
    """Five callers released together; the load is held open until all five are inside the cache for
    that version, so a cache without the per-version lock would load it five times."""
    cache = LruModelCache(capacity=2)
    calls = []
    start = threading.Barrier(6)
    release = threading.Event()

    def slow_load(ref):
        calls.append(ref)
        assert release.wait(30), "the test never released the load"
        return "model"

    def caller():
        start.wait()
        cache.get_or_load(A, slow_load)

    threads = [threading.Thread(target=caller) for _ in range(5)]
    for t in threads:
        t.start()
    start.wait()
    while cache.callers_loading(A) < 5 and any(t.is_alive() for t in threads):
        time.sleep(0.001)  # polls the cache's own count; no duration is asserted
    release.set()
    for t in threads:
        t.join()
    assert calls == [A] and cache.hits + cache.misses == 5


def test_a_failed_load_leaves_nothing_behind_and_counts_as_a_failed_load():
    cache = LruModelCache(capacity=2)

    def unknown(ref):
        raise KeyError(ref)

    for version in range(1, 1001):
        try:
            cache.get_or_load(ModelRef("nope", version), unknown)
        except KeyError:
            pass
    assert cache.cached() == [] and cache.pending_loads() == 0
    stats = cache.stats()
    assert (stats.misses, stats.load_failures, stats.hits) == (0, 1000, 0)


def test_hits_misses_and_loads_are_counted_truthfully():
    cache = LruModelCache(capacity=2)

    def load(ref: ModelRef) -> str:
        return f"model-{ref.version}"

    cache.get_or_load(A, load)
    cache.get_or_load(A, load)
    cache.get_or_load(B, load)
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.load_failures, stats.size) == (1, 2, 0, 2)


def test_load_bookkeeping_does_not_grow_with_the_number_of_loads():
    cache = LruModelCache(capacity=1)
    for version in range(1, 501):
        cache.get_or_load(ModelRef("m", version), lambda ref: "model")
    assert cache.stats().misses == 500 and len(cache.cached()) == 1
    assert not any(isinstance(v, list) and len(v) > 1 for v in vars(cache).values())
