"""The public API: every exported name resolves, and importing does not pull in Folium."""

from __future__ import annotations

import subprocess
import sys

import bordergeo


def test_every_exported_name_resolves():
    for name in bordergeo.__all__:
        assert getattr(bordergeo, name) is not None, name
    assert set(bordergeo.__all__) <= set(dir(bordergeo))


def test_import_is_light_and_quiet():
    code = ("import sys, logging, bordergeo; "
            "assert 'folium' not in sys.modules; "
            "assert logging.getLogger().handlers == []; "
            "print(bordergeo.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == bordergeo.__version__
    assert out.stderr == ""
