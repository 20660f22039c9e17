"""The README's two commands stay true: CI runs the README's test command verbatim."""

from __future__ import annotations

import re

from tests.conftest import REPO


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    command = re.search(r"^TEST_COMMAND='(.*)'$", ci, re.MULTILINE).group(1)
    readme = (REPO / "README.md").read_text()
    assert f"```bash\n{command}\n```" in readme


def test_readme_main_command_trains_on_mnist():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, re.DOTALL)
    assert "scripts/train_ram.py --env GlimpseMNIST-v0" in blocks[0] and "pip install" in blocks[0]
