"""Measure what a patient waits for: loading forms, saving a page, rendering the consent PDF.

Run: ``.venv/bin/python bench/bench_kiosk.py``. Reports medians; nothing here is asserted.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from kiosk import paths
from kiosk.documents.consent_pdf import ConsentPdfData, render_consent_pdf
from kiosk.domain.loader import load_packet
from kiosk.domain.strings import load_strings
from kiosk.storage import repository
from kiosk.storage.db import open_database

NOW = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))


def median_ms(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def tiny_png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).line([(20, 150), (200, 40), (400, 160), (580, 60)], fill="black", width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    packet = load_packet(paths.FORMS_DIR)
    strings = load_strings(paths.STRINGS_DIR)
    print(
        f"load forms packet:        {median_ms(lambda: load_packet(paths.FORMS_DIR), 20):7.1f} ms"
    )
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", key_dir=Path(folder))
        sessions = db.sessions
        with sessions.begin() as session:
            visit_id = repository.start_visit(
                session, packet=packet, language="en", kiosk_id="bench", now=NOW
            )
        intake = packet.form("intake")

        def save_page() -> None:
            with sessions.begin() as session:
                repository.save_answers(
                    session, visit_id, form=intake, answers={"pain_now": 5}, removed=(), now=NOW
                )

        print(f"save one page (FULL sync): {median_ms(save_page, 50):7.1f} ms")
    data = ConsentPdfData(
        clinic_name="Bench Clinic",
        language="en",
        consent=packet.consent,
        document_id="KC-BENCH000",
        patient_name="Bench Patient",
        birth_date="1960-01-01",
        signer_name="Bench Patient",
        signed_at=NOW,
        signature_png=tiny_png(),
        text_sha256="0" * 64,
        statement=packet.consent.statement.get("en"),
        meaning=packet.consent.meaning.get("en"),
    )
    render = lambda: render_consent_pdf(data, strings)  # noqa: E731
    print(f"render consent PDF:       {median_ms(render, 10):7.1f} ms")


if __name__ == "__main__":
    main()
