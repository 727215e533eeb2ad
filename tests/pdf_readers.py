"""Second readers for every PDF the kiosk produces: poppler's pdfsig and qpdf.

pdfsig exits 0 even on a digest mismatch (DESIGN §8), so its text is read; pyHanko stays the
judge (kiosk.documents.seal.check_seal). qpdf --check is a structure check only.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def pdfsig_report(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            ["pdfsig", "-nocert", str(path)], capture_output=True, text=True, check=False
        )
    return done.stdout + done.stderr


def assert_second_readers_accept(pdf: bytes) -> None:
    """pdfsig finds one valid signature over the whole document; qpdf finds no errors."""
    report = pdfsig_report(pdf)
    assert report.count("Signature #") == 1, report
    assert "Signature is Valid" in report and "Total document signed" in report, report
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        check = subprocess.run(
            ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
        )
    assert check.returncode == 0, check.stdout + check.stderr
