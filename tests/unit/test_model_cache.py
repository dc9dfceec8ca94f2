import threading

from adapters.model_cache import LruModelCache
from churn.model import ModelRef

A, B, C = ModelRef("m", 1), ModelRef("m", 2), ModelRef("m", 3)


def test_least_recently_used_model_is_evicted_but_never_the_pinned_one():
    cache = LruModelCache(capacity=2)
    loaded = []
    load = lambda ref: loaded.append(ref) or f"model-{ref.version}"
    cache.get_or_load(A, load)
    cache.pin(A)
    cache.get_or_load(B, load)
    cache.get_or_load(C, load)
    assert set(cache.cached()) == {A, C}
    assert cache.get_or_load(A, load) == "model-1"
    assert loaded == [A, B, C]


def test_concurrent_requests_for_one_version_load_it_once():
    cache = LruModelCache(capacity=2)
    calls = []
    gate = threading.Event()

    def slow_load(ref):
        calls.append(ref)
        gate.wait(1)
        return "model"

    threads = [threading.Thread(target=cache.get_or_load, args=(A, slow_load)) for _ in range(5)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert calls == [A] and cache.hits + cache.misses == 5
