import threading

from adapters.job_runner import ThreadJobRunner


def test_jobs_beyond_the_worker_count_wait_in_order_and_report_their_place():
    runner = ThreadJobRunner(workers=1)
    release = threading.Event()
    started = threading.Event()
    order: list[str] = []

    def blocking():
        started.set()
        release.wait(5)
        order.append("a")

    runner.submit("a", blocking)
    started.wait(5)
    done = threading.Event()
    runner.submit("b", lambda: order.append("b"))
    runner.submit("c", lambda: (order.append("c"), done.set()))
    assert (runner.position("a"), runner.position("b"), runner.position("c")) == (None, 1, 2)
    release.set()
    assert done.wait(5)
    assert order == ["a", "b", "c"]
    runner.shutdown()


def test_a_failing_job_does_not_stop_the_worker():
    runner = ThreadJobRunner(workers=1)
    done = threading.Event()
    runner.submit("bad", lambda: 1 / 0)
    runner.submit("good", done.set)
    assert done.wait(5)
    runner.shutdown()
