"""The README's code runs: every Python block, every CLI line, and the CLI reference is current."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

from bordergeo.cli import main, reference_markdown

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# lines that stand for the user's own files
PLACEHOLDERS = ("path/to/", "extract.osm.pbf", "my-data")


def _bash_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith(("bordergeo ", "python -m bordergeo")) and not any(
                    p in line for p in PLACEHOLDERS):
                commands.append(line)
    return commands


def test_python_blocks_run_in_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert len(blocks) >= 4
    for k, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {k + 1}", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "planning.xlsx").exists() and (tmp_path / "planning.gpkg").exists()


@pytest.mark.parametrize("command", _bash_commands())
def test_cli_lines_run(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(command, comments=True)
    if argv[:3] == ["python", "-m", "bordergeo.examples"]:
        from bordergeo.examples import main as examples_main

        assert examples_main(argv[3:]) == 0
        return
    assert main(argv[1:]) == 0, capsys.readouterr().err


def _flags(text: str) -> dict[str, set[str]]:
    sections = re.split(r"#### `bordergeo (\S+)`", text)
    found = {"": set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", sections[0]))}
    for name, body in zip(sections[1::2], sections[2::2], strict=True):
        found[name] = set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", body))
    return found


def test_cli_reference_matches_help():
    match = re.search(r"<!-- cli-reference:start \(generated .*? on Python (\d+\.\d+);.*?-->\n"
                      r"(.*?)<!-- cli-reference:end -->", README, re.S)
    assert match, "the README lost its CLI reference markers"
    recorded_python, documented = match.groups()
    current = reference_markdown()
    if recorded_python == f"{sys.version_info[0]}.{sys.version_info[1]}":
        assert documented == current, ("README CLI reference is stale: paste "
                                       "bordergeo.cli.reference_markdown() between the markers")
    else:  # argparse words its help a little differently across Python versions
        assert _flags(documented) == _flags(current)
