#!/usr/bin/env python3
"""Time each step of a build from the moments its output lines arrive.

Usage: step_times.py [--env NAME=VALUE ...] -- BUILD COMMAND ...

Runs the build command with its output on a pipe and stamps every line with a monotonic
clock. A step lasts from its `Step N/M :` line (classic output, as `dockwright build` and
`docker build` with DOCKER_BUILDKIT=0 print it) to the next step's line, or to the end of
the process for the last step. The time before the first step covers start-up, reading the
context and sending it. The figures are only as fine as the program flushes its output: a
program that buffers its output shows the whole build in one step.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def main() -> int:
    """Run the command and print one row per step, slowest marked."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the command")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        ap.error("the build command is missing")
    env = dict(os.environ)
    for pair in args.env:
        name, _, value = pair.partition("=")
        env[name] = value
    start = time.monotonic()
    marks: list[tuple[float, str]] = [(0.0, "(start-up, context scan and upload)")]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert child.stdout is not None
    for raw in child.stdout:
        line = raw.decode(errors="replace").rstrip("\n")
        if line.startswith("Step "):
            marks.append((time.monotonic() - start, line[:90]))
    status = child.wait()
    total = time.monotonic() - start
    rows = []
    for index, (at, label) in enumerate(marks):
        end = marks[index + 1][0] if index + 1 < len(marks) else total
        rows.append((end - at, label))
    for seconds, label in rows:
        print(f"{seconds:8.3f} s  {label}")
    print(f"{total:8.3f} s  total, exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
