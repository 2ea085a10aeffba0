"""The progress indicator: drawn on terminals only, usable as a callback."""

from __future__ import annotations

import io
from datetime import date

import pytest

from carecoord import HumanName, Patient, PatientId, ValidationError
from carecoord.progress import Progress
from carecoord.storage import MemoryStore, UnitOfWork, copy_store


class FakeStream(io.StringIO):
    """A text stream that claims (or not) to be a terminal."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class NoIsatty:
    """A minimal writable object without isatty()."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def frames(stream: FakeStream) -> list[str]:
    """The lines drawn, in order (each redraw starts with a carriage return)."""
    return [part.rstrip("\n").rstrip() for part in stream.getvalue().split("\r") if part]


def test_draws_on_a_terminal() -> None:
    stream = FakeStream(tty=True)
    with Progress(total=4, label="import", stream=stream, interval=0) as bar:
        assert bar.enabled
        bar.update()
        bar.update(2)
    drawn = frames(stream)
    assert drawn[0].startswith("import: 1/4 ( 25.0%) ")
    assert drawn[1].startswith("import: 3/4 ( 75.0%) ")
    assert drawn[-1].startswith("import: 3/4 ( 75.0%) ")  # the final redraw on close
    assert stream.getvalue().endswith("\n")
    assert stream.getvalue().count("\n") == 1
    assert bar.done == 3


def test_silent_when_not_a_terminal() -> None:
    stream = FakeStream(tty=False)
    with Progress(total=10, label="import", stream=stream, interval=0) as bar:
        assert not bar.enabled
        bar.update(5)
        bar(9, 10)
    assert stream.getvalue() == ""
    assert bar.done == 9  # still counts


def test_stream_without_isatty_is_not_a_terminal() -> None:
    stream = NoIsatty()
    bar = Progress(total=2, stream=stream, interval=0)  # type: ignore[arg-type]
    bar.update(2)
    bar.close()
    assert not bar.enabled
    assert stream.text == ""


def test_closed_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    stream.close()  # isatty() on a closed stream raises ValueError
    with pytest.raises(ValueError, match="closed"):
        stream.isatty()
    assert not Progress(stream=stream).enabled


def test_enabled_overrides_detection() -> None:
    forced_on = FakeStream(tty=False)
    with Progress(total=2, stream=forced_on, enabled=True, interval=0) as bar:
        bar.update(2)
    assert frames(forced_on)[0].startswith("2/2 (100.0%) ")
    forced_off = FakeStream(tty=True)
    with Progress(total=2, stream=forced_off, enabled=False, interval=0) as bar:
        bar.update(2)
    assert forced_off.getvalue() == ""


def test_unknown_total_shows_the_count_only() -> None:
    stream = FakeStream(tty=True)
    with Progress(label="rows", stream=stream, interval=0) as bar:
        bar.update(1234)
    assert frames(stream)[0].startswith("rows: 1,234 ")
    assert "%" not in stream.getvalue()


def test_redraws_are_throttled_but_completion_is_drawn() -> None:
    stream = FakeStream(tty=True)
    bar = Progress(total=1000, stream=stream, interval=3600)
    for _ in range(999):
        bar.update()
    assert len(frames(stream)) == 1  # the first update draws, the rest wait
    bar.update()  # reaching the total always draws
    assert frames(stream)[-1].startswith("1,000/1,000 (100.0%) ")
    bar.close()
    bar.close()  # closing twice ends the line once
    assert stream.getvalue().count("\n") == 1
    bar.update()  # ignored after close
    assert stream.getvalue().count("\r") == 3


def test_shorter_line_overwrites_a_longer_one() -> None:
    stream = FakeStream(tty=True)
    bar = Progress(stream=stream, interval=0)
    bar("a-long-label", 1, 2)
    bar("x", 2, 2)
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) >= len(first)  # padded with spaces to wipe the old text
    assert second.startswith("x: 2/2 (100.0%) ")


def test_callback_forms() -> None:
    bar = Progress(stream=FakeStream(tty=False))
    bar(3, 7)
    assert (bar.done, bar.total, bar.label) == (3, 7, "")
    bar("Patient", 5, 9)
    assert (bar.done, bar.total, bar.label) == (5, 9, "Patient")
    with pytest.raises(ValidationError):
        bar(1)  # type: ignore[call-overload]
    with pytest.raises(ValidationError):
        bar("1", "2")  # type: ignore[call-overload]


def test_usable_as_copy_store_progress() -> None:
    source, target = MemoryStore(), MemoryStore()
    with UnitOfWork(source) as uow:
        for n in range(3):
            uow.add(
                Patient(
                    id=PatientId(f"p-{n}"),
                    name=HumanName(family="Example"),
                    birth_date=date(1950, 1, 1),
                    time_zone="UTC",
                )
            )
    stream = FakeStream(tty=True)
    with Progress(label="copy", stream=stream, interval=0) as bar:
        copy_store(source, target, kinds=["Patient"], progress=bar, batch_size=2)
    assert frames(stream)[0].startswith("Patient: 2/3 ( 66.7%) ")
    assert frames(stream)[1].startswith("Patient: 3/3 (100.0%) ")
    assert [r.id for r in target.read_all("Patient")] == ["p-0", "p-1", "p-2"]


def test_repr_names_counts_only() -> None:
    bar = Progress(total=5, label="secret label", stream=FakeStream(tty=False))
    bar.update(2)
    assert repr(bar) == "Progress(done=2, total=5, enabled=False)"
