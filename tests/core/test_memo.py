"""The short-lived memo: kept for its ttl, computed once by concurrent callers, bounded, off at ttl 0."""

from __future__ import annotations

import threading
import time

from civicgrid.core.memo import Memo


def test_a_value_is_kept_for_its_ttl_and_computed_again_after() -> None:
    memo: Memo[int] = Memo()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert memo.get("k", compute, ttl=0.2) == 1
    assert memo.get("k", compute, ttl=0.2) == 1
    assert memo.get("other", compute, ttl=0.2) == 2
    time.sleep(0.25)
    assert memo.get("k", compute, ttl=0.2) == 3
    assert memo.get("k", compute, ttl=0) == 4  # ttl 0: always computed
    assert memo.get("k", compute, ttl=0) == 5


def test_concurrent_callers_of_one_key_compute_once() -> None:
    memo: Memo[str] = Memo()
    started = threading.Barrier(8)
    computed: list[int] = []
    answers: list[str] = []

    def slow() -> str:
        computed.append(1)
        time.sleep(0.2)
        return "figures"

    def caller() -> None:
        started.wait()
        answers.append(memo.get(("overview", "340300"), slow, ttl=30))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == ["figures"] * 8 and computed == [1]


def test_an_error_is_not_kept_and_the_size_is_bounded() -> None:
    memo: Memo[int] = Memo(size=2)

    def broken() -> int:
        raise RuntimeError("the database went away")

    for _ in range(2):
        try:
            memo.get("k", broken, ttl=30)
        except RuntimeError:
            pass
        else:
            raise AssertionError("the error was swallowed")
    assert memo.get("k", lambda: 1, ttl=30) == 1
    memo.get("a", lambda: 2, ttl=30)
    memo.get("b", lambda: 3, ttl=30)  # "k" is the oldest: dropped
    assert memo.get("k", lambda: 4, ttl=30) == 4
