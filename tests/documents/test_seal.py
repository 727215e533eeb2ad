"""The clinic's seal: certificates, a PAdES seal over the whole consent PDF, and ``kiosk verify``
rejecting every way a file can lie. Checked by pyHanko (the judge), poppler's pdfsig and qpdf."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from kiosk import paths
from kiosk.documents.consent_pdf import ConsentPdfData, render_consent_pdf
from kiosk.documents.seal import (
    FIELD_NAME,
    ROOT_CERT,
    ROOT_KEY,
    SEAL_CERT,
    SEAL_KEY,
    Certificates,
    SealError,
    check_seal,
    init_certificates,
    seal_pdf,
)
from kiosk.domain.model import Packet
from kiosk.domain.strings import Strings
from kiosk.storage import repository
from kiosk.storage.db import open_database
from tests.conftest import CLINIC_TIME
from tests.pdf_readers import assert_second_readers_accept, pdfsig_report

NAME = "Zenobia Sealtest-Okafor"  # synthetic


def _png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).line([(20, 150), (200, 40), (400, 160), (580, 60)], fill="black", width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _consent_pdf(packet: Packet, strings: Strings) -> bytes:
    return render_consent_pdf(
        ConsentPdfData(
            clinic_name="Test Clinic",
            language="en",
            consent=packet.consent,
            document_id="KC-SEALTEST",
            patient_name=NAME,
            birth_date="1961-03-05",
            signer_name=NAME,
            signed_at=CLINIC_TIME,
            signature_png=_png(),
            text_sha256="ab" * 32,
            statement=packet.consent.statement.get("en"),
            meaning=packet.consent.meaning.get("en"),
            audit_head="7:" + "cd" * 32,
        ),
        strings,
    )


@dataclass
class Sealed:
    pdf: bytes
    path: Path
    certs: Certificates
    database_url: str


@pytest.fixture
def sealed(packet: Packet, strings: Strings, tmp_path: Path) -> Iterator[Sealed]:
    """A sealed consent, stored in the records as the kiosk stores it, and written to a file."""
    certs = Certificates(paths.key_dir())  # the test clinic's certificates (tests/conftest.py)
    pdf = seal_pdf(_consent_pdf(packet, strings), certs, reason="test", location="test kiosk")
    url = f"sqlite:///{tmp_path / 'kiosk.sqlite3'}"
    db = open_database(url)
    with db.begin() as session:
        visit_id = repository.start_visit(
            session, packet=packet, language="en", kiosk_id="k1", now=CLINIC_TIME
        )
        session.flush()
        repository.store_document(session, visit_id, content=pdf, now=CLINIC_TIME)
    db.dispose()
    path = tmp_path / "KC-SEALTEST.pdf"
    path.write_bytes(pdf)
    yield Sealed(pdf, path, certs, url)


def _verify(sealed: Sealed, data: bytes | None = None) -> subprocess.CompletedProcess[str]:
    path = sealed.path
    if data is not None:
        path = sealed.path.with_name("suspect.pdf")
        path.write_bytes(data)
    return subprocess.run(
        [sys.executable, "-m", "kiosk", "verify", str(path), "--database", sealed.database_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


# --- certificates ---


def test_certs_init_makes_a_root_and_a_non_repudiation_seal_with_private_keys(
    tmp_path: Path,
) -> None:
    from cryptography import x509

    certs = Certificates(tmp_path / "clinic-keys")
    made = init_certificates(certs, clinic_name="Test Clinic", kiosk_id="tablet-3")
    assert "Consent kiosk tablet-3" in made.seal_subject
    seal = x509.load_pem_x509_certificate(certs.path(SEAL_CERT).read_bytes())
    root = x509.load_pem_x509_certificate(certs.path(ROOT_CERT).read_bytes())
    usage = seal.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.content_commitment and usage.digital_signature  # non-repudiation
    assert seal.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for key in (ROOT_KEY, SEAL_KEY):
        assert stat.S_IMODE(certs.path(key).stat().st_mode) == 0o600
        assert b"PRIVATE KEY" in certs.path(key).read_bytes()
    with pytest.raises(SealError, match="were not replaced"):
        init_certificates(certs, clinic_name="Test Clinic", kiosk_id="tablet-3")


def test_the_certs_command_tells_staff_what_it_made(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "certs", "init"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KIOSK_KEY_DIR": str(tmp_path / "new-keys")},
    )
    assert done.returncode == 0, done.stderr
    assert "kiosk seal:" in done.stdout and "0600" in done.stdout
    again = subprocess.run(
        [sys.executable, "-m", "kiosk", "certs", "init"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KIOSK_KEY_DIR": str(tmp_path / "new-keys")},
    )
    assert again.returncode == 1 and "were not replaced" in again.stderr


def test_sealing_without_certificates_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SealError, match="kiosk certs init"):
        seal_pdf(b"%PDF-1.4", Certificates(tmp_path), reason="r", location="l")


# --- the seal ---


def test_a_sealed_consent_is_valid_by_pyhanko_pdfsig_and_qpdf(
    sealed: Sealed, tmp_path: Path
) -> None:
    result = check_seal(sealed.pdf, sealed.certs)
    assert result.ok, result.reasons
    assert "Consent kiosk test-kiosk" in result.signer
    reader = PdfReader(io.BytesIO(sealed.pdf))
    fields = reader.get_fields() or {}
    assert FIELD_NAME in fields
    widget = next(
        a.get_object()
        for page in reader.pages
        for a in page.get("/Annots", [])
        if a.get_object().get("/T") == FIELD_NAME
    )
    rect = [float(v) for v in widget["/Rect"]]
    assert rect[2] - rect[0] == 0 and rect[3] - rect[1] == 0  # invisible
    perms: Any = reader.trailer["/Root"]["/Perms"]["/DocMDP"].get_object()  # type: ignore[index]
    assert perms["/Reference"][0]["/TransformParams"]["/P"] == 1  # no changes allowed
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert NAME in text  # the handwritten mark and the manifestation are page content
    assert_second_readers_accept(sealed.pdf)


def test_kiosk_verify_accepts_the_stored_sealed_consent(sealed: Sealed) -> None:
    done = _verify(sealed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("VALID: KC-SEALTEST.pdf")
    assert "covers the whole file" in done.stdout
    assert NAME not in done.stdout + done.stderr


def _flipped(data: bytes) -> bytes:
    """One byte changed in the page content the seal covers."""
    changed = bytearray(data)
    at = data.index(b"stream", len(data) // 4) + 40
    changed[at] ^= 0x01
    return bytes(changed)


def _painted_over(data: bytes) -> bytes:
    """An incremental update appended after the seal that paints a white box over page 1's
    header (where the name is) and writes another name: the classic shadow attack."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    paint = generic.StreamObject(stream_data=b"q 1 1 1 rg 40 600 520 200 re f Q")
    writer.add_stream_to_page(0, writer.add_object(paint))  # type: ignore[no-untyped-call]
    out = io.BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()


def _transplanted(data: bytes, tmp_path: Path) -> bytes:
    """The handwritten signature image taken out of the sealed PDF and put into another one."""
    reader = PdfReader(io.BytesIO(data))
    images = [image for page in reader.pages for image in page.images]
    assert images, "the consent has its signature image"
    image_path = tmp_path / "signature.png"
    picture = images[-1].image
    assert picture is not None
    picture.save(image_path)
    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "I agree to everything. Someone Else")
    page.drawImage(ImageReader(str(image_path)), 72, 500, width=300, height=100)
    page.save()
    return out.getvalue()


@pytest.mark.parametrize(
    ("attack", "reason"),
    [
        ("flipped byte", "the content changed after it was sealed"),
        ("painted over", "something was added to the file after it was sealed"),
        ("truncated", "damaged or incomplete"),
        ("transplanted signature", "has no kiosk seal"),
        ("not our PDF", "has no kiosk seal"),
        ("not a PDF", "this is not a PDF file"),
    ],
)
def test_kiosk_verify_rejects_each_forgery_with_its_reason(
    sealed: Sealed, tmp_path: Path, strings: Strings, packet: Packet, attack: str, reason: str
) -> None:
    forged: bytes = {  # type: ignore[no-untyped-call]
        "flipped byte": lambda: _flipped(sealed.pdf),
        "painted over": lambda: _painted_over(sealed.pdf),
        "truncated": lambda: sealed.pdf[: len(sealed.pdf) * 2 // 3],
        "transplanted signature": lambda: _transplanted(sealed.pdf, tmp_path),
        "not our PDF": lambda: _consent_pdf(packet, strings),  # ours, but never sealed
        "not a PDF": lambda: b"GIF89a not a consent",
    }[attack]()
    done = _verify(sealed, forged)
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith("NOT VALID"), done.stdout
    assert reason in done.stdout
    assert "not a consent this clinic stored" in done.stdout  # the records check agrees
    assert NAME not in done.stdout + done.stderr


def test_pdfsig_alone_would_be_fooled_which_is_why_pyhanko_judges(
    sealed: Sealed, tmp_path: Path
) -> None:
    """poppler calls a painted-over file valid (only "Not total document signed") and exits 0
    on a digest mismatch: the tests read its text, and kiosk verify relies on pyHanko."""
    painted = pdfsig_report(_painted_over(sealed.pdf))
    assert "Signature is Valid" in painted and "Not total document signed" in painted
    flipped = pdfsig_report(_flipped(sealed.pdf))
    assert "Signature is Valid" not in flipped
    assert not check_seal(_painted_over(sealed.pdf), sealed.certs).ok


def test_a_seal_from_another_clinic_is_not_trusted(sealed: Sealed, tmp_path: Path) -> None:
    other = Certificates(tmp_path / "other-clinic")
    init_certificates(other, clinic_name="Other Clinic", kiosk_id="x")
    result = check_seal(sealed.pdf, other)
    assert result.reasons == ["the seal was not made with this clinic's certificate"]


def test_a_sealed_file_missing_from_the_records_is_not_valid(
    sealed: Sealed, packet: Packet, strings: Strings
) -> None:
    unrecorded = seal_pdf(_consent_pdf(packet, strings), sealed.certs, reason="r", location="l")
    assert check_seal(unrecorded, sealed.certs).ok  # a genuine seal ...
    done = _verify(sealed, unrecorded)
    assert done.returncode == 1  # ... but not a consent the clinic stored
    assert "no document with this file's fingerprint is in the records" in done.stdout


def test_pyhanko_is_not_imported_at_start_up() -> None:
    code = (
        "import sys, os; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
        "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
        "from kiosk.app.kiosk_app import open_kiosk; from kiosk.config import Settings\n"
        "k = open_kiosk(Settings.load()); print(type(k).__name__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyhanko', 'asn1crypto')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["Kiosk", "[]"]


def test_a_kiosk_that_requires_certificates_starts_in_safe_mode_without_them(
    tmp_path: Path, qtbot: object
) -> None:
    import dataclasses

    from kiosk.app.kiosk_app import SafeMode, open_kiosk
    from kiosk.config import Settings

    keys = tmp_path / "bare-keys"
    settings = dataclasses.replace(
        Settings.load(database_url=f"sqlite:///{tmp_path / 'k.sqlite3'}"),
        key_dir=keys,
        certificates="require",
    )
    result = open_kiosk(settings, clock=lambda: dt.datetime.now(dt.UTC))
    assert isinstance(result, SafeMode)
    assert any("kiosk certs init" in p for p in result.problems)
    result.window.close()
