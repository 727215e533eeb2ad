"""Fixtures for the domain tests: small forms written into ``tmp_path`` and loaded for real."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from kiosk.domain.loader import load_document, load_packet
from kiosk.domain.model import Form, Packet
from kiosk.domain.signature import DrawnSignature

TODAY = dt.date(2024, 6, 1)

PACKET_YAML = """\
kind: packet
id: test_packet
version: 1
forms: [intake]
consent: ketamine_consent
"""

INTAKE_YAML = """\
kind: questionnaire
id: intake
version: 3
title: {en: Intake, es: Admisión}
pages:
  - id: who
    title: {en: About you, es: Sobre usted}
    items:
      - id: full_name
        type: text
        identity: name
        max_length: 40
        text: {en: Your full name, es: Su nombre completo}
  - id: born
    items:
      - id: birth_date
        type: date
        identity: birth_date
        past_only: true
        text: {en: Date of birth, es: Fecha de nacimiento}
  - id: reason
    items:
      - id: visit_reason
        type: single_choice
        text: {en: Why are you here today, es: Por qué viene hoy}
        choices:
          - {value: pain, label: {en: Pain, es: Dolor}}
          - {value: depression, label: {en: Depression, es: Depresión}}
          - {value: other, label: {en: Something else, es: Otra cosa}}
  - id: reason_other
    show_if: {item: visit_reason, equals: other}
    items:
      - id: visit_reason_other
        type: text
        text: {en: Please tell us more, es: Cuéntenos más}
  - id: pain
    items:
      - id: pain_now
        type: scale
        min: 0
        max: 10
        min_label: {en: No pain, es: Sin dolor}
        max_label: {en: Worst pain, es: El peor dolor}
        text: {en: Your pain right now, es: Su dolor ahora}
      - id: pain_notes
        type: text
        required: false
        text: {en: Anything else about your pain, es: Algo más sobre su dolor}
"""

CONSENT_YAML = """\
kind: consent
id: ketamine_consent
version: 2
title: {en: Consent for ketamine infusion, es: Consentimiento para infusión de ketamina}
sections:
  - id: what_it_is
    title: {en: What ketamine is, es: Qué es la ketamina}
    body:
      en: Ketamine is an anaesthetic used at low doses for pain.
      es: La ketamina es un anestésico que se usa en dosis bajas para el dolor.
  - id: risks
    title: {en: Risks, es: Riesgos}
    body:
      en: You may feel dizzy or detached during the infusion.
      es: Puede sentirse mareado o desconectado durante la infusión.
statement:
  en: I have read and understood this information and agree to the infusion.
  es: He leído y entendido esta información y acepto la infusión.
meaning: {en: Consent to treatment, es: Consentimiento al tratamiento}
"""

PHQ9_BANDS = (
    ("minimal", 0, 4),
    ("mild", 5, 9),
    ("moderate", 10, 14),
    ("moderately_severe", 15, 19),
    ("severe", 20, 27),
)


def phq9_yaml() -> str:
    """A PHQ-9-like questionnaire: nine 0–3 items, an unscored difficulty item, bands, a flag."""
    lines = [
        "kind: questionnaire",
        "id: phq9",
        "version: 1",
        "title: {en: Patient Health Questionnaire (PHQ-9), es: Cuestionario PHQ-9}",
        "choice_sets:",
        "  frequency:",
        "    - {value: 0, label: {en: Not at all, es: Nunca}}",
        "    - {value: 1, label: {en: Several days, es: Varios días}}",
        "    - {value: 2, label: {en: More than half the days, es: Más de la mitad de los días}}",
        "    - {value: 3, label: {en: Nearly every day, es: Casi todos los días}}",
        "pages:",
    ]
    for n in range(1, 10):
        lines += [
            f"  - id: page_{n}",
            "    items:",
            f"      - id: phq9_{n}",
            "        type: single_choice",
            "        choices: frequency",
            f"        text: {{en: Question {n}, es: Pregunta {n}}}",
        ]
    lines += [
        "  - id: page_difficulty",
        "    items:",
        "      - id: phq9_difficulty",
        "        type: single_choice",
        "        required: false",
        "        text: {en: How difficult, es: Qué tan difícil}",
        "        choices:",
        "          - {value: 0, label: {en: Not difficult, es: Nada difícil}}",
        "          - {value: 1, label: {en: Somewhat, es: Algo}}",
        "          - {value: 2, label: {en: Very, es: Muy}}",
        "          - {value: 3, label: {en: Extremely, es: Extremadamente}}",
        "scores:",
        "  - id: phq9_total",
        "    method: sum",
        "    items: [" + ", ".join(f"phq9_{n}" for n in range(1, 10)) + "]",
        "    label: {en: PHQ-9 total, es: Total PHQ-9}",
        "    bands:",
    ]
    for band_id, low, high in PHQ9_BANDS:
        lines.append(
            f"      - {{id: {band_id}, min: {low}, max: {high}, "
            f"label: {{en: {band_id}, es: {band_id}}}}}"
        )
    lines += [
        "flags:",
        "  - id: phq9_item9",
        "    severity: urgent",
        "    when: {item: phq9_9, gte: 1}",
        "    message: {en: Thoughts of self-harm, es: Pensamientos de hacerse daño}",
    ]
    return "\n".join(lines) + "\n"


def write_packet(folder: Path) -> Path:
    """Write the mini packet (packet, intake questionnaire, consent) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "packet.yaml").write_text(PACKET_YAML, encoding="utf-8")
    (folder / "intake.yaml").write_text(INTAKE_YAML, encoding="utf-8")
    (folder / "consent.yaml").write_text(CONSENT_YAML, encoding="utf-8")
    return folder


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture
def packet_dir(tmp_path: Path) -> Path:
    return write_packet(tmp_path / "packet")


@pytest.fixture
def packet(packet_dir: Path) -> Packet:
    return load_packet(packet_dir)


@pytest.fixture
def intake(packet: Packet) -> Form:
    return packet.form("intake")


@pytest.fixture
def phq9_path(tmp_path: Path) -> Path:
    path = tmp_path / "phq9" / "phq9.yaml"
    path.parent.mkdir()
    path.write_text(phq9_yaml(), encoding="utf-8")
    return path


@pytest.fixture
def phq9_form(phq9_path: Path) -> Form:
    form = load_document(phq9_path)
    assert isinstance(form, Form)
    return form


@pytest.fixture
def scribble() -> DrawnSignature:
    """A realistic signature: three strokes of wavy handwriting across most of a 600×200 pad."""
    strokes = []
    for start, end in ((40.0, 220.0), (240.0, 400.0), (420.0, 560.0)):
        points = []
        for i in range(30):
            x = start + (end - start) * i / 29
            points.append((x, 100.0 + 35.0 * math.sin(i / 2.5)))
        strokes.append(tuple(points))
    return DrawnSignature(tuple(strokes), width=600.0, height=200.0, png=b"\x89PNG")
