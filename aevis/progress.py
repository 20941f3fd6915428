"""Progress bars per build stage, and the stage timings printed at the end.

A stage that counts its steps shows the time it has left, from its pace so far; at 100,000
images a stage can run for minutes, and the person watching should know how many. Uses
``rich``, which Keras already installs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Stages:
    """Times each stage of a build and shows a progress bar while it runs.

    >>> stages = Stages(quiet=True)
    >>> with stages.stage("Reading images", total=3) as advance:
    ...     for _ in range(3):
    ...         advance(1)
    >>> [name for name, _ in stages.timings]
    ['Reading images']
    """

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True)
        self.timings: list[tuple[str, float]] = []
        self._stop: BaseException | None = None

    def stop(self, reason: BaseException) -> None:
        """Have the build end with ``reason`` at its next step or stage: a signal handler's
        exception can be lost (Python drops one raised inside a finaliser), this cannot."""
        self._stop = reason

    def _go_on(self) -> None:
        if self._stop is not None:
            raise self._stop

    @contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """Run one stage; yields ``advance(steps)`` to move its bar."""
        self._go_on()
        start = time.perf_counter()
        if self.quiet:
            yield lambda steps=1: self._go_on()
        else:
            columns = [
                TextColumn("{task.description:<28}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
            ]
            with Progress(*columns, console=self.console, transient=False) as bar:
                task = bar.add_task(name, total=total)

                def advance(steps: int = 1) -> None:
                    self._go_on()
                    bar.advance(task, steps)

                yield advance
                if total is None:  # a stage without steps: show it finished
                    bar.update(task, total=1, completed=1)
        self.timings.append((name, time.perf_counter() - start))
        self._go_on()

    def log(self, message: str) -> None:
        """One line for the person watching the build."""
        self.console.print(message, highlight=False)

    def summary(self) -> str:
        """The stage timings as aligned lines, with the total."""
        width = max((len(name) for name, _ in self.timings), default=5)
        lines = [f"  {name:<{width}}  {seconds:7.1f} s" for name, seconds in self.timings]
        total = sum(seconds for _, seconds in self.timings)
        lines.append(f"  {'total':<{width}}  {total:7.1f} s")
        return "\n".join(lines)
