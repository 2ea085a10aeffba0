"""A tiny progress indicator for long operations (bulk import, export, copies).

Standard library only. It draws one self-overwriting line on a terminal and
stays silent otherwise, so logs, pipes and CI output are never cluttered::

    with Progress(total=len(rows), label="import") as bar:
        for row in rows:
            handle(row)
            bar.update()

A :class:`Progress` is also a callback for functions that report progress
themselves: called as ``bar(done, total)`` or ``bar(label, done, total)`` it
jumps to that absolute position (and shows ``label``). That is the shape
:func:`carecoord.storage.copy_store` uses::

    with Progress(label="copy") as bar:
        copy_store(source, target, progress=bar)

Only counts and the label you give are drawn: never pass patient data as a
label.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Self, overload

from .model import ValidationError

__all__ = ["Progress"]


class Progress:
    """A progress line on ``stream`` (default ``sys.stderr``), drawn only on a terminal.

    ``total`` is the expected count (``None`` when unknown: only the count and
    rate are shown). ``enabled=None`` draws only when ``stream.isatty()`` is
    true; ``True``/``False`` force it. Redraws happen at most every
    ``interval`` seconds, plus once when the total is reached and on
    :meth:`close`. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        total: int | None = None,
        label: str = "",
        *,
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self.enabled = _is_tty(self._stream) if enabled is None else bool(enabled)
        self._interval = float(interval)
        self._started = time.monotonic()
        self._last_draw: float | None = None
        self._width = 0
        self._closed = False

    # ------------------------------------------------------------- counting
    def update(self, n: int = 1) -> None:
        """Advance by ``n`` items."""
        self._move(self.done + n)

    @overload
    def __call__(self, done: int, total: int | None, /) -> None: ...

    @overload
    def __call__(self, label: str, done: int, total: int | None, /) -> None: ...

    def __call__(self, *args: str | int | None) -> None:
        """Callback form: jump to ``done`` of ``total``, optionally showing ``label``."""
        if len(args) == 3:
            label, done, total = args
            self.label = str(label)
        elif len(args) == 2:
            done, total = args
        else:
            raise ValidationError("Progress takes (done, total) or (label, done, total)")
        if not isinstance(done, int) or (total is not None and not isinstance(total, int)):
            raise ValidationError("done and total must be ints")
        self.total = total
        self._move(done)

    def _move(self, done: int) -> None:
        self.done = done
        if not self.enabled or self._closed:
            return
        now = time.monotonic()
        finished = self.total is not None and done >= self.total
        if finished or self._last_draw is None or now - self._last_draw >= self._interval:
            self._draw(now)

    # -------------------------------------------------------------- drawing
    def render(self) -> str:
        """The text of the progress line (without the carriage return)."""
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self.done / elapsed
        prefix = f"{self.label}: " if self.label else ""
        if self.total:
            share = min(self.done / self.total, 1.0) * 100
            counted = f"{self.done:,}/{self.total:,} ({share:5.1f}%)"
        else:
            counted = f"{self.done:,}"
        return f"{prefix}{counted} {rate:,.0f}/s {elapsed:.1f}s"

    def _draw(self, now: float) -> None:
        line = self.render()
        pad = " " * max(self._width - len(line), 0)
        self._width = len(line)
        self._stream.write(f"\r{line}{pad}")
        self._stream.flush()
        self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line (once; later updates are ignored)."""
        if self._closed:
            return
        if self.enabled:
            self._draw(time.monotonic())
            self._stream.write("\n")
            self._stream.flush()
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Progress(done={self.done}, total={self.total}, enabled={self.enabled})"


def _is_tty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False
