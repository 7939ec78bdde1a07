"""Progress during an ingest: each file's share of the run, moving while one long file or one feed of
many entries is under way, and adding up to exactly one file when it is done."""

from __future__ import annotations

from collections.abc import Callable, Sequence

Progress = Callable[[str, float], None]  # (what is being done, share of one file just finished)
QUANTUM = 1024  # shares are reported in 1/1024ths of a file, which add up exactly in floating point


class FileMeter:
    """One file's progress: reports shares of it that add up to exactly 1 when it is done."""

    def __init__(self, progress: Progress | None, name: str) -> None:
        self.progress, self.name, self.reported = progress, name, 0

    @property
    def share(self) -> float:
        """How much of the file is done (0..1)."""
        return self.reported / QUANTUM

    def to(self, share: float, what: str | None = None) -> None:
        """The file is `share` (0..1) done; `what` describes the step under way."""
        units = max(self.reported, min(QUANTUM, int(share * QUANTUM)))
        if self.progress and (units > self.reported or what):
            self.progress(what or self.name, (units - self.reported) / QUANTUM)
        self.reported = units

    def finish(self) -> None:
        self.to(1.0)

    def part(self, first: int, last: int, count: int) -> PartMeter:
        """The meter of articles first..last-1 of the `count` in this file."""
        return PartMeter(self, first, last, count)

    @property
    def file(self) -> FileMeter:
        return self


class PartMeter:
    """Some articles of a file of many: their share of the file, moved on the file's meter."""

    def __init__(self, parent: FileMeter, first: int, last: int, count: int) -> None:
        self.parent, self.start, self.size = parent, first / count, (last - first) / count
        self.name = f"{parent.name} {first + 1}-{last}/{count}" if last - first > 1 else f"{parent.name} {last}/{count}"
        self.share = 0.0

    def to(self, share: float, what: str | None = None) -> None:
        self.share = max(self.share, min(1.0, share))
        self.parent.to(self.start + self.size * self.share, what)

    def finish(self) -> None:
        self.to(1.0)

    @property
    def file(self) -> FileMeter:
        return self.parent


Meter = FileMeter | PartMeter


def in_steps(embed: Callable[[list[str]], Sequence], texts: list[str], step: int,
             done: Callable[[int], None]) -> list:
    """embed(texts) a slice of `step` texts at a time, shortest first, calling done(characters so far)
    after each; rows come back in the order of `texts`. With `step` a multiple of the model's batch
    size the batches, hence the vectors, are those of a single call."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows: list = [None] * len(texts)
    finished = 0
    for first in range(0, len(order), step):
        part = order[first : first + step]
        for i, row in zip(part, embed([texts[i] for i in part])):
            rows[i] = row
        finished += sum(len(texts[i]) for i in part)
        done(finished)
    return rows
