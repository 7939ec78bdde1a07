"""The line to the model: a bounded, first-come-first-served queue in front of the shared backend.

Work runs in a small thread pool (the backend and the store are synchronous). A request that finds the
line full is refused at once (QueueFull: 503 with Retry-After) rather than left waiting for minutes.
A client that goes away leaves the line: while waiting its place is given up, and work already running
is told to stop at its next step (a streamed answer stops between drafts, which closes the model's
stream too).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from rag.errors import RagError

T = TypeVar("T")
Work = Callable[[threading.Event], Iterator[T]]  # gets a stop signal; yields results as it makes them
_END = object()


class QueueFull(RagError):
    """Every place in the line to the model is taken."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the server is busy: every place in the line to the model is taken",
                         hint=f"retry in {retry_after} s", retryable=True)
        self.retry_after = retry_after


class Reservation:
    """A place in the line, held from admission until the work ends or the client leaves."""

    def __init__(self, queue: ModelQueue) -> None:
        self.queue = queue
        self.held = True

    def release(self) -> None:
        """Give the place back (safe to call more than once)."""
        if self.held:
            self.held = False
            self.queue.admitted -= 1


class ModelQueue:
    """At most `workers` pieces of work at once, at most `waiting` more in line; the rest are refused."""

    def __init__(self, workers: int, waiting: int, retry_after: int) -> None:
        self.workers = workers
        self.capacity = workers + waiting
        self.retry_after = retry_after
        self.admitted = 0
        self.running = 0
        self._slots: asyncio.Semaphore | None = None  # made in the server's event loop
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="rag-model")

    @property
    def waiting(self) -> int:
        return max(0, self.admitted - self.running)

    def reserve(self) -> Reservation:
        """A place in line, or QueueFull; decided before any response is started, so it can be a 503."""
        if self.admitted >= self.capacity:
            raise QueueFull(self.retry_after)
        self.admitted += 1
        return Reservation(self)

    async def run(self, reservation: Reservation, work: Work[T]) -> AsyncIterator[T]:
        """What `work` yields, as it yields it, once a worker is free (asyncio's semaphore wakes waiters in
        the order they came). Closing this iterator early stops the work at its next step."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        slots = self._slots
        try:
            await slots.acquire()
        except BaseException:
            reservation.release()
            raise
        self.running += 1
        loop = asyncio.get_running_loop()
        results: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()

        def done() -> None:
            self.running -= 1
            slots.release()
            reservation.release()

        def post(item: object, error: BaseException | None = None) -> None:
            try:
                loop.call_soon_threadsafe(results.put_nowait, (item, error))
            except RuntimeError:  # the loop is closed: the server is shutting down
                pass

        def drive() -> None:
            steps = iter(())
            try:
                steps = work(stop)
                for item in steps:
                    if stop.is_set():
                        break
                    post(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the request, which answers for it
                post(None, exc)
            finally:
                if hasattr(steps, "close"):
                    steps.close()  # a streamed model reply is closed here, so the model stops writing
                post(_END)
                try:
                    loop.call_soon_threadsafe(done)
                except RuntimeError:
                    pass

        self._pool.submit(drive)
        try:
            while True:
                item, error = await results.get()
                if error is not None:
                    raise error
                if item is _END:
                    return
                yield item
        finally:
            stop.set()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


async def last(items: AsyncIterator[T]) -> T:
    """The last item of an async iterator (the finished answer after any drafts)."""
    result = None
    async for result in items:
        pass
    if result is None:
        raise RagError("the model gave no result", retryable=True)
    return result
