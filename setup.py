"""Build hook: the top-level contracts/ and fixtures/ ship inside the package, as mockserver/data/.

They stay the one source: a wheel (and so `pip install .`, `pip install git+...`, pipx) gets a copy made at
build time; an editable install reads them where they are (mockserver/resources.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED_DATA = ("contracts", "fixtures")


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for name in SHIPPED_DATA:
            target = Path(self.build_lib) / "mockserver" / "data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]"))


setup(cmdclass={"build_py": BuildPyWithData})
