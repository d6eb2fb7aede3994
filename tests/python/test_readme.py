"""The Python session shown in README.md runs and prints what the README says."""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_python_session() -> None:
    text = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "README.md has no Python example"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    previous = Path.cwd()
    os.chdir(REPO)
    try:
        for number, block in enumerate(blocks):
            test = parser.get_doctest(block, {}, f"README block {number}", "README.md", 0)
            runner.run(test)
    finally:
        os.chdir(previous)
    assert runner.failures == 0
