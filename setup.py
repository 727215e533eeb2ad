"""The package list only: everything else is in pyproject.toml.

``forms/`` and ``resources/`` are mapped into the package (``[tool.setuptools.package-dir]``), and
setuptools' ``packages.find`` cannot name a package that lives outside the ``kiosk`` folder, so
the two are listed here beside the discovered ones.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["kiosk*"]), "kiosk.forms", "kiosk.resources"])
