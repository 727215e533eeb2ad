"""Private files are 0600 in a 0700 folder and whole or absent: a real full disk (a file-size limit
the kernel enforces with EFBIG) leaves no truncated file and no temporary file, and keeps the
file that was there before."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.private_files import create_private_file, private_folder, write_private_file

# Writes past LIMIT bytes fail with EFBIG, as on a full disk; SIGXFSZ ignored so it is an error.
FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from kiosk.private_files import write_private_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
try:
    write_private_file(Path(sys.argv[1]), b"new " * 100_000)
except OSError as exc:
    print(f"failed: {exc.errno}")
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and RLIMIT_FSIZE")
def test_a_private_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)  # an existing folder others could enter is brought to 0700
    private_folder(folder)
    write_private_file(folder / "KC-TEST0001.pdf", b"%PDF-1.7 copy")
    assert mode(folder) == 0o700
    assert mode(folder / "KC-TEST0001.pdf") == 0o600
    write_private_file(folder / "KC-TEST0001.pdf", b"%PDF-1.7 again")  # replaced, still 0600
    assert (folder / "KC-TEST0001.pdf").read_bytes() == b"%PDF-1.7 again"
    assert mode(folder / "KC-TEST0001.pdf") == 0o600
    assert sorted(p.name for p in folder.iterdir()) == ["KC-TEST0001.pdf"]


def test_create_private_file_never_replaces(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    private_folder(folder)
    path = folder / "database.key"
    create_private_file(path, b"first")
    with pytest.raises(FileExistsError):
        create_private_file(path, b"second")
    assert path.read_bytes() == b"first"
    assert [p.name for p in folder.iterdir()] == ["database.key"]


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_leaves_the_old_file_whole_and_no_partial_file(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    private_folder(folder)
    path = folder / "KC-TEST0001.pdf"
    write_private_file(path, b"%PDF-1.7 the earlier copy")
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "failed: 27"  # EFBIG: the kernel refused the write
    assert path.read_bytes() == b"%PDF-1.7 the earlier copy"
    assert [p.name for p in folder.iterdir()] == ["KC-TEST0001.pdf"]  # no temporary file
