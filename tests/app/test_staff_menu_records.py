"""The staff menu on the tablet when the unfinished visits cannot be read: the kiosk carries on."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError

from kiosk.domain.strings import Strings
from kiosk.storage import repository
from kiosk.ui.screens.staff import StaffMenu, StaffSignIn
from kiosk.ui.screens.start import WelcomeScreen
from kiosk.ui.texts import Texts
from tests.app.conftest import KioskUnderTest
from tests.app.test_staff_access import PIN, _corner_taps, _sign_in

IN_THE_ERROR = "Rosa Núñez"  # a driver's message may quote the row it choked on


def _unreadable(*args: object, **kwargs: object) -> list[repository.DraftVisit]:
    raise OperationalError(
        f"SELECT … WHERE patient_name = '{IN_THE_ERROR}'", {}, Exception("disk I/O error")
    )


def test_unreadable_drafts_leave_a_kind_message_and_the_kiosk_running(
    kiosk: KioskUnderTest,
    strings: Strings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    k = kiosk
    k.add_staff()
    _corner_taps(k, 5)
    with monkeypatch.context() as patch, caplog.at_level(logging.ERROR):
        patch.setattr(repository, "list_drafts", _unreadable)
        _sign_in(k, PIN)

    panel = k.kiosk.staff.panel
    assert isinstance(panel, StaffSignIn)  # no menu with a resume list that would be wrong
    assert panel.message.isVisible()
    assert panel.message.text() == Texts(strings, "en")("errors.save_failed")
    assert panel.pin.text() == ""
    assert "could not read the unfinished visits: OperationalError" in caplog.text
    assert IN_THE_ERROR not in caplog.text and "disk I/O" not in caplog.text
    assert k.kiosk.window.isVisible()
    assert isinstance(k.screen, WelcomeScreen)

    # The records answer again: the same sign-in opens the menu.
    _sign_in(k, PIN)
    assert isinstance(k.kiosk.staff.panel, StaffMenu)
