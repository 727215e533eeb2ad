"""Pictures of the staff console: the urgent-finding banner before and after sign-in, sign-in,
the queue with a red flag, a visit's detail, the sealed consent in the preview. A synthetic
patient signs at a real kiosk first; two more visits (one with an urgent flag, one on paper) are
written as a tablet writes them, the second after the first picture, so the banner is seen with
one finding and with two. Nothing is kept but the pictures."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from kiosk import paths
from kiosk.app.clock import local_now
from kiosk.app.demo import DemoPatient, settle, write_flagged_visit, write_screenshot
from kiosk.app.kiosk_app import Kiosk, open_kiosk
from kiosk.app.staff_app import StaffConsole
from kiosk.config import Settings
from kiosk.domain.loader import load_packet
from kiosk.domain.strings import load_strings
from kiosk.storage import repository, staff
from kiosk.ui.staff.detail import VisitDetailView
from kiosk.ui.staff.login import LoginPanel
from kiosk.ui.staff.queue import QueueView

SIZE = (1280, 800)
CLINICIAN = ("dr.demo", "Dr Demo Clinician", "clinician", "135790")


def take_staff(settings: Settings, out: Path) -> list[Path]:
    """Write the console's pictures into ``out``; return their paths."""
    scratch = Path(tempfile.mkdtemp(prefix="kiosk-staff-screens-"))
    try:
        return _take(settings, out, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _take(settings: Settings, out: Path, scratch: Path) -> list[Path]:
    settings = dataclasses.replace(
        settings,
        database_url=f"sqlite:///{scratch / 'screens.sqlite3'}",
        output_dir=None,
        key_dir=scratch / "keys",
    )
    kiosk = open_kiosk(settings)
    if not isinstance(kiosk, Kiosk):
        raise RuntimeError("; ".join(kiosk.problems))
    kiosk.window.show()
    signed = DemoPatient(kiosk).run().visit_id
    db = kiosk.db
    packet = load_packet(settings.forms_dir, settings.text_values())
    now = local_now()
    flagged = write_flagged_visit(db, packet, "Tomás Ejemplo Ruiz", "1958-09-14", now)
    with db.begin() as session:
        staff_id, name, role, pin = CLINICIAN
        staff.add_staff(session, staff_id, name=name, role=role, pin=pin, now=now)
    kiosk.window.hide()

    console = StaffConsole(settings, db, packet, load_strings(paths.STRINGS_DIR))
    window = console.window
    window.resize(*SIZE)
    window.show()
    written: list[Path] = []

    def shoot(name: str) -> None:
        settle(120)
        path = out / f"staff-{name}.png"
        write_screenshot(window, path)
        written.append(path)

    console.poll_alerts()  # at once, not at the timer's first tick
    shoot("alert-signed-out")  # one finding: the tablet and the time, nothing about the patient
    paper = write_flagged_visit(db, packet, "Alice Sample", "1975-02-11", now)
    with db.begin() as session:
        repository.record_paper_choice(session, paper, consent=packet.consent, now=now)
    console.poll_alerts()
    login = window.panel
    assert isinstance(login, LoginPanel)
    login.staff_id.setText(CLINICIAN[0])
    login.pin.setText(CLINICIAN[3])
    shoot("login")
    login.sign_in_button.click()
    shoot("alert-signed-in")  # document numbers, the flags' words, "Open visit"
    queue = window.panel
    assert isinstance(queue, QueueView)
    queue.table.selectRow(queue.row_of(flagged))
    shoot("queue")
    console.open_visit(flagged)
    shoot("detail-flag")
    console.open_visit(signed)
    detail = window.panel
    assert isinstance(detail, VisitDetailView)
    shoot("detail-signed")
    console.preview("consent_pdf")
    settle(400)
    shoot("preview")
    console.shutdown()
    kiosk.shutdown()
    return written
