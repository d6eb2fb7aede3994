"""`dockwright build` on a terminal: the live display, checked frame by frame under a pty.

The program runs with its standard streams on a pseudo-terminal of a fixed size. Each frame
after the first starts by moving the cursor up over the previous one (``ESC [ n A``), so the
output splits into frames at those sequences.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

from store_support import cli
from test_build_cli import context, run
from test_build_cli import store_root as store_root  # noqa: F401 (the fixture)

COLUMNS = 90
ROWS = 40
CURSOR_UP = re.compile(rb"\r?\x1b\[(\d+)A")
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_pty(root: Path, *args: str, columns: int = COLUMNS) -> tuple[int, bytes]:
    """Run dockwright with stdin, stdout and stderr on a pty of `columns` x ROWS; return the
    exit status and every byte it wrote."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, columns, 0, 0))
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(root), TERM="xterm")
    process = subprocess.Popen(
        [str(Path(cli()).absolute()), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed the terminal
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), bytes(output)


def frames(output: bytes) -> list[list[str]]:
    """Split the output at each cursor-up sequence into frames of plain text lines."""
    parts = CURSOR_UP.split(output)
    # split() interleaves the captured line counts; the frames are the even items.
    texts = [part.decode("utf-8", "replace") for part in parts[0::2]]
    return [
        [ESCAPE.sub("", line) for line in text.replace("\r\n", "\n").split("\n")] for text in texts
    ]


def big_context(tmp_path: Path, size: int) -> Path:
    """A context with a file of `size` bytes copied by the Dockerfile."""
    ctx = context(
        tmp_path,
        "FROM base:test\nCOPY big /big\nRUN echo copied; wc -c /big\nENV DONE=1\n",
    )
    block = bytes(range(256)) * 4096
    with open(ctx / "big", "wb") as out:
        for _ in range(size // len(block)):
            out.write(block)
    return ctx


def test_frames_redraw_in_place(store_root: Path, tmp_path: Path) -> None:
    ctx = big_context(tmp_path, 192 << 20)
    status, output = run_in_pty(store_root, "build", "--no-cache", "-t", "tty:big", str(ctx))
    assert status == 0, output.decode(errors="replace")
    all_frames = frames(output)
    assert len(all_frames) > 2
    moves = [int(n) for n in CURSOR_UP.findall(output)]
    assert moves and all(n > 0 for n in moves)

    # No line of any frame reaches the last column, so nothing wraps.
    for frame in all_frames:
        for line in frame:
            assert len(line) <= COLUMNS - 1, line

    text = "\n".join("\n".join(frame) for frame in all_frames)
    bar = re.compile(r"(context|layer)\s+[\u2588\u2591]{4,}\s+\S+ ?\S* / \S+")
    assert bar.search(text), "no progress bar in any frame"
    assert re.search(r"\u2502 copied", text), "the RUN step's output is not shown while it runs"

    final = all_frames[-1]
    step_lines = [line for line in final if re.match(r"^. \[\d/4\] ", line)]
    assert [line[2:8] for line in step_lines] == ["[1/4] ", "[2/4] ", "[3/4] ", "[4/4] "]
    assert step_lines[0].startswith("\u2714 [1/4] FROM base:test")
    assert step_lines[1].startswith("\u2714 [2/4] COPY big /big")
    assert step_lines[2].startswith("\u2714 [3/4] RUN echo copied; wc -c /big")
    assert step_lines[3].startswith("\u2714 [4/4] ENV DONE=1")
    for line in step_lines:
        assert re.search(r"\d+\.\ds$", line), f"no finished timer: {line!r}"
    # A finished step shows no output and no progress any more.
    assert not [line for line in final if "\u2502" in line or "\u2588" in line]
    assert re.match(r"^Built in \d+\.\ds  \(4/4 steps\)  context ", final[4])
    assert re.match(r"^Successfully built [0-9a-f]{12}$", final[5])
    assert final[6] == "Successfully tagged tty:big"


def test_failed_step_shows_its_whole_output(store_root: Path, tmp_path: Path) -> None:
    lines = "; ".join(f"echo line{n}" for n in range(1, 13))
    ctx = context(tmp_path, f"FROM base:test\nRUN {lines}; exit 3\n")
    status, output = run_in_pty(store_root, "build", "--no-cache", str(ctx))
    assert status == 3
    final = frames(output)[-1]
    assert final[0].startswith("\u2714 [1/2] FROM base:test")
    assert final[1].startswith("\u2718 [2/2] RUN echo line1;")
    assert re.search(r"failed  \d+\.\ds$", final[1])
    assert [line.strip() for line in final[2:14]] == [f"\u2502 line{n}" for n in range(1, 13)]
    assert final[14].startswith("Failed after ")
    assert final[15].startswith("The command '/bin/sh -c echo line1;")
    assert final[15].endswith("returned a non-zero code: 3")


def test_running_step_shows_last_lines(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path, "FROM base:test\nRUN for n in 1 2 3 4 5 6 7 8; do echo out$n; done; sleep 1\n"
    )
    status, output = run_in_pty(store_root, "build", "--no-cache", str(ctx))
    assert status == 0
    shown = [
        [line.strip() for line in frame if "\u2502" in line]
        for frame in frames(output)
        if any("\u2502 out8" in line for line in frame)
    ]
    assert shown, "no frame shows the output while the step runs"
    assert shown[0] == [f"\u2502 out{n}" for n in range(4, 9)]


def test_pipe_gets_plain_lines(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo plain\nENV P=1\n")
    result = run(store_root, "build", "--no-cache", "--progress", "auto", str(ctx))
    assert "\x1b" not in result.stdout
    assert "\x1b" not in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Sending build context to Docker daemon")
    assert lines[1] == "Step 1/3 : FROM base:test"
    assert "plain" in lines
    assert lines[-1].startswith("Successfully built ")


def test_progress_plain_on_a_terminal(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nENV P=2\n")
    status, output = run_in_pty(store_root, "build", "--progress", "plain", str(ctx))
    assert status == 0
    assert not CURSOR_UP.search(output)
    assert b"Step 2/2 : ENV P=2" in output


def test_narrow_terminal_cuts_lines(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo " + "x" * 80 + "\n")
    status, output = run_in_pty(store_root, "build", "--no-cache", str(ctx), columns=40)
    assert status == 0
    for frame in frames(output):
        for line in frame:
            assert len(line) <= 39, line
    final = frames(output)[-1]
    assert final[1].startswith("\u2714 [2/2] RUN echo xx\u2026 ")
    assert re.search(r" [0-9a-f]{12}  \d+\.\ds$", final[1])
    assert len(final[1]) == 39


def test_progress_event_converts_to_dataclass() -> None:
    from dockwright.events import TaskProgress, event_from_dict

    event = event_from_dict(
        {
            "kind": "progress",
            "step": 2,
            "task": "layer",
            "current": 4096,
            "progress_total": 0,
            "unit": "bytes",
            "finished": True,
        }
    )
    assert event == TaskProgress(2, "layer", 4096, 0, "bytes", True)
