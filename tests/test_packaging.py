"""The wheel a clinic installs carries the forms, strings, styles, fonts and sound the kiosk
reads (DESIGN §8: an editable install hides data left outside the package)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_carries_every_file_the_kiosk_reads(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    needed = {
        f"kiosk/{path.relative_to(ROOT).as_posix()}"
        for folder in ("forms", "resources")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in {".yaml", ".qss", ".ttf", ".wav"}
    }
    assert needed, "the checkout has no data files to look for"
    assert needed <= names, sorted(needed - names)
