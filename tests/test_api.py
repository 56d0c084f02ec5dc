"""The public API: every exported name resolves, and importing does not pull in Folium."""

from __future__ import annotations

import subprocess
import sys

import bordergeo


def test_every_exported_name_resolves():
    for name in bordergeo.__all__:
        assert getattr(bordergeo, name) is not None, name
    assert set(bordergeo.__all__) <= set(dir(bordergeo))


HEAVY = ("geopandas", "pandas", "networkx", "scipy", "folium", "matplotlib", "shapely")


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join("
                          f"m for m in {HEAVY!r} if m in sys.modules))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_import_and_version_load_no_heavy_module():
    assert _loaded_after("import bordergeo") == []
    assert _loaded_after("from bordergeo import __version__, BorderGeoError") == []


def test_command_line_parses_before_importing_the_heavy_modules():
    # --help, --version and a usage error need only the parser
    code = ("from bordergeo.cli import main\n"
            "import contextlib, io\n"
            "try:\n"
            "    with contextlib.redirect_stderr(io.StringIO()):\n"
            "        main(['gates', '--no-such-option'])\n"
            "except SystemExit as exc:\n"
            "    assert exc.code == 2\n")
    assert _loaded_after(code) == []
    # a command imports what it uses and no more: the gate table needs no routing or maps
    loaded = _loaded_after("from bordergeo.cli import main\n"
                           "import contextlib, io\n"
                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                           "    assert main(['gates']) == 0\n")
    assert "geopandas" in loaded and "folium" not in loaded and "matplotlib" not in loaded


def test_import_is_light_and_quiet():
    code = ("import sys, logging, bordergeo; "
            "assert 'folium' not in sys.modules; "
            "assert logging.getLogger().handlers == []; "
            "print(bordergeo.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == bordergeo.__version__
    assert out.stderr == ""
