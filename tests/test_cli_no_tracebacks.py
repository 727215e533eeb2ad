"""Hostile command lines get a plain, kind message and exit 2, never a traceback (issue 17).

Each case runs the real ``kiosk`` in its own process, as staff or a script would.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import MAX_PDF_BYTES
from kiosk.documents.seal import check_seal
from tests.documents.test_seal import Sealed, sealed  # noqa: F401 (a fixture)

LONG = "a" * 300
EXIT_USAGE = 2


def _kiosk(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr + done.stdout
    return done


def _refused(done: subprocess.CompletedProcess[str], message: str) -> None:
    """Exit 2 and one plain line that says why, and no screenful of the name given."""
    assert done.returncode == EXIT_USAGE, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert LONG not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("forms", "check", LONG), "cannot be read (File name too long)"),
        (("forms", "check", f"{LONG}.yaml"), "cannot be read (File name too long)"),
        (("forms", "score", LONG, "--answers", "-"), "no form called 'aaaa"),
        (("forms", "score", f"{LONG}.yaml", "--answers", "-"), "cannot be read (File name"),
    ],
)
def test_a_300_character_form_name_or_path(args: tuple[str, ...], message: str) -> None:
    _refused(_kiosk(*args, stdin="{}"), message)


def test_a_form_path_through_a_file(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = _kiosk("forms", "check", str(tmp_path / "a-file" / "phq9.yaml"))
    _refused(done, "cannot be read (Not a directory)")


@pytest.mark.parametrize(
    "url", ["bogus://x", "mysql://kiosk:s3cret@db/kiosk", "mysql+pymysql://h/db", "sqlite://"]
)
def test_a_database_url_the_kiosk_cannot_use_is_a_usage_error(url: str) -> None:
    done = _kiosk("audit", "verify", "--database", url)
    _refused(done, "The records cannot be opened: ")
    assert "s3cret" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", [("run",), ("staff",), ("demo", "--out", "demo-out")])
@pytest.mark.parametrize("url", ["bogus://x", "mysql://kiosk:s3cret@db/kiosk", "sqlite://"])
def test_a_window_is_never_started_on_a_database_url_it_cannot_use(
    command: tuple[str, ...], url: str
) -> None:
    done = _kiosk(*command, "--database", url)
    _refused(done, "The kiosk cannot start: ")
    assert "s3cret" not in done.stderr + done.stdout


def test_an_unreachable_server_is_still_a_failure_not_a_usage_error(tmp_path: Path) -> None:
    """Exit 1: the command was right, the records could not be reached."""
    done = _kiosk("audit", "verify", "--database", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    assert done.returncode == 1
    assert done.stderr.startswith("The records cannot be opened: there is no database at")


@pytest.mark.parametrize("hours", ["99999999999999999999", "876001", "0"])
def test_drafts_purge_with_hours_out_of_range(hours: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    done = _kiosk("drafts", "purge", "--older-than-hours", hours, "--database", url)
    _refused(done, "--older-than-hours must be more than 0 and at most 876000")


@pytest.mark.parametrize("where", ["under-a-file", "/proc/no-such/folder"])
def test_a_backup_into_a_folder_that_cannot_exist(where: str, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    folder = tmp_path / "a-file" / "backups" if where == "under-a-file" else Path(where)
    done = _kiosk("backup", str(folder / "kiosk.backup"), "--database", "sqlite:///x.sqlite3")
    _refused(done, f"no backup made: the folder {folder} cannot be made (")


def test_demo_out_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("keep me")
    done = _kiosk("demo", "--out", str(target))
    _refused(done, f"--out needs a folder: {target} cannot be one (it is a file)")
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("kind", ["sparse file", "device"])
def test_verify_refuses_a_file_past_the_size_limit(kind: str, tmp_path: Path) -> None:
    """Refused after reading at most the limit: a 60 MB file (or an endless device) is never
    taken into memory whole."""
    if kind == "device":
        path = Path("/dev/zero")
        if not path.exists():
            pytest.skip("no /dev/zero here")
    else:
        path = tmp_path / "huge.pdf"
        with path.open("wb") as handle:
            handle.truncate(MAX_PDF_BYTES + 10 * 1024 * 1024)
    done = _kiosk("verify", str(path), "--database", f"sqlite:///{tmp_path / 'k.sqlite3'}")
    _refused(done, f"{path.name} is larger than 50 MB, far larger than any consent PDF")


def _bit_flips_near_the_end(pdf: bytes, span: int = 400) -> Iterator[bytes]:
    """The cross-reference table and trailer: where one bit upsets pyHanko's reader most."""
    for offset in range(len(pdf) - span, len(pdf)):
        tampered = bytearray(pdf)
        tampered[offset] ^= 1
        yield bytes(tampered)


def test_a_tampered_file_gets_our_reasons_and_nothing_of_pyhanko(
    sealed: Sealed,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """pyHanko raises assertion and attribute errors on some damaged files and logs (with
    tracebacks) on others: each is one of our reasons, and standard error holds nothing else."""
    logged: list[bytes] = []
    for tampered in _bit_flips_near_the_end(sealed.pdf):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pyhanko"):
            assert check_seal(tampered, sealed.certs).reasons  # never raises, never passes
        if any(r.name.startswith("pyhanko") for r in caplog.records):
            logged.append(tampered)
    root_gone = re.sub(rb"/Root \d+ 0 R(?![\s\S]*/Root)", b"/Root 99 0 R", sealed.pdf)
    assert logged, "no flip made pyHanko log: pick another kind of damage for this test"
    for name, data in [("logged.pdf", logged[0]), ("no-root.pdf", root_gone)]:
        path = tmp_path / name
        path.write_bytes(data)
        done = _kiosk("verify", str(path), "--database", sealed.database_url)
        assert done.returncode == 1
        assert done.stdout.startswith(f"NOT VALID: {name}\n  - ")
        assert done.stderr == ""


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="needs a sysfs folder")
@pytest.mark.parametrize("where", ["read-only", "under-a-file"])
def test_kiosk_run_with_a_data_folder_it_cannot_write_says_so(where: str, tmp_path: Path) -> None:
    """Not "already running": it says which folder and why, and stays up showing safe mode.

    We run as root here, and root writes through a chmod 0500 folder; sysfs refuses even root,
    so /sys/kernel stands in for a read-only data folder (a non-root user cannot run this
    interpreter, which lives under /root)."""
    (tmp_path / "a-file").write_text("")
    data = Path("/sys/kernel") if where == "read-only" else tmp_path / "a-file" / "data"
    if where == "read-only" and os.access(data, os.W_OK) and _writable(data):
        pytest.skip("this /sys/kernel is writable")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_DATA_DIR": str(data),
        "KIOSK_DATABASE_URL": f"sqlite:///{tmp_path / 'kiosk.sqlite3'}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--windowed"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        time.sleep(1.0)  # the safe-mode window is up and the event loop runs
        still_running = process.poll() is None
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[1]
    why = "cannot be written to: it is read-only" if where == "read-only" else "cannot be made"
    assert first.startswith(f"The kiosk cannot start: the data folder {data} {why}")
    assert still_running
    assert "already running" not in first + rest and "Traceback" not in rest


def _writable(folder: Path) -> bool:
    try:
        (folder / ".kiosk-probe").touch()
    except OSError:
        return False
    (folder / ".kiosk-probe").unlink()
    return True
