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
    assert (runner.position("b"), runner.position("c")) == (1, 2)
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


def test_a_job_a_worker_has_taken_keeps_a_place_until_its_work_ends():
    runner = ThreadJobRunner(workers=1)
    inside, release = threading.Event(), threading.Event()

    def work():  # the window between the worker taking the job and the job being marked running
        inside.set()
        release.wait(5)

    runner.submit("first", work)
    assert inside.wait(5)
    assert runner.position("first") == 1
    release.set()
    runner.shutdown()
    assert runner.position("first") is None
