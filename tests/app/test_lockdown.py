"""Lock-down: closing and quit keys do nothing, one kiosk per computer, errors and SIGTERM wipe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy.orm import Session

from kiosk.app.instance import LOCK_NAME, acquire_single_instance
from kiosk.app.kiosk_app import install_crash_guards
from kiosk.storage import repository
from kiosk.ui.screens.start import WelcomeScreen
from tests.app.conftest import KioskUnderTest
from tests.app.test_patient_walk import NAME, _start
from tests.app.test_privacy import _patient_strings_left

Key = Qt.Key
Mod = Qt.KeyboardModifier


def test_closing_and_quit_keys_do_nothing(kiosk: KioskUnderTest) -> None:
    k = kiosk
    _start(k)
    page = k.screen
    window = k.kiosk.window
    assert window.close() is False  # what Alt+F4 and the window manager's close ask for
    QTest.keyClick(window, Key.Key_Escape)
    QTest.keyClick(window, Key.Key_Q, Mod.ControlModifier)
    QTest.keyClick(window, Key.Key_W, Mod.ControlModifier)
    QTest.keyClick(window, Key.Key_F4, Mod.AltModifier)
    QApplication.processEvents()
    assert window.isVisible()
    assert k.screen is page
    with Session(k.engine()) as session:
        actions = [e.action for e in repository.load_audit(session)]
    assert "kiosk.close_refused" in actions
    window.release()  # staff exit
    assert window.close() is True


def test_one_kiosk_per_computer(tmp_path: Path) -> None:
    first = acquire_single_instance(tmp_path)
    assert first is not None and first.isLocked()
    assert acquire_single_instance(tmp_path) is None
    first.unlock()
    again = acquire_single_instance(tmp_path)
    assert again is not None
    again.unlock()


def test_a_lock_left_by_a_crashed_kiosk_is_taken_over(tmp_path: Path) -> None:
    crashed = subprocess.run(  # takes the lock, then dies without unlocking
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from pathlib import Path\n"
            "from kiosk.app.instance import acquire_single_instance\n"
            "lock = acquire_single_instance(Path(sys.argv[1]))\n"
            "assert lock is not None\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n",
            str(tmp_path),
        ],
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL
    assert (tmp_path / LOCK_NAME).exists()
    lock = acquire_single_instance(tmp_path)
    assert lock is not None
    lock.unlock()


@pytest.fixture
def guarded(kiosk: KioskUnderTest) -> Iterator[KioskUnderTest]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    restore = install_crash_guards(app, kiosk.kiosk)
    yield kiosk
    restore()


@pytest.mark.qt_no_exception_capture
def test_an_unexpected_error_wipes_and_returns_to_welcome(
    guarded: KioskUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    k = guarded
    _start(k)
    k.answer(k.question().widgets["patient_name"], NAME)

    def broken_slot() -> None:
        raise RuntimeError(f"something about {NAME}")  # a message that carries patient data

    QTimer.singleShot(0, broken_slot)
    k.qtbot.waitUntil(lambda: isinstance(k.screen, WelcomeScreen), timeout=3000)
    assert _patient_strings_left() == []
    assert "unexpected error (RuntimeError)" in caplog.text
    assert "Prueba" not in caplog.text and "Rosa" not in caplog.text


def _run_kiosk(data: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_DATA_DIR": str(data),
        "KIOSK_OUTPUT_DIR": str(data / "out"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--windowed"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if path.exists() or process.poll() is not None:
            return
        time.sleep(0.05)


def test_sigterm_stops_the_kiosk_cleanly_and_a_second_one_refuses(tmp_path: Path) -> None:
    kiosk = _run_kiosk(tmp_path)
    try:
        _wait_for(tmp_path / LOCK_NAME, kiosk)
        assert kiosk.poll() is None, kiosk.stderr.read() if kiosk.stderr else ""
        time.sleep(1.0)  # let it reach Welcome
        second = _run_kiosk(tmp_path)
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert "already running" in err
        kiosk.send_signal(signal.SIGTERM)
        kiosk.wait(timeout=30)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
    assert kiosk.returncode == 0
    lock = acquire_single_instance(tmp_path)  # released on the way out
    assert lock is not None
    lock.unlock()
