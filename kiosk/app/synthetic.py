"""The synthetic patient of the demo, the screenshots, the benches and the tests (no Qt here:
the visit service's tests use it without a QApplication)."""

from __future__ import annotations

import math

from kiosk.domain.model import AnswerValue, ItemType, Packet

SYNTHETIC_ANSWERS: dict[str, AnswerValue] = {
    # About you
    "patient_name": "Rosa Demo Núñez",
    "birth_date": "1961-03-05",
    "phone": "(555) 010-0199",
    "emergency_contact_name": "Luis Demo Núñez",
    "emergency_contact_phone": "(555) 010-0142",
    "emergency_contact_relationship": "Brother",
    "has_driver": True,
    "driver_name": "Luis Demo Núñez",
    "driver_phone": "(555) 010-0142",
    # Pain
    "pain_conditions": ("crps",),
    "pain_areas": ("arms", "hands"),
    "pain_duration": 12,
    "treatments_tried": ("pain_medicines", "physical_therapy", "nerve_blocks"),
    "pain_now": 7,
    # Medicines
    "takes_medicines": True,
    "current_medicines": (
        {"name": "Gabapentin", "dose": "300 mg, 3 times a day"},
        {"name": "Lisinopril", "dose": "10 mg every morning"},
    ),
    "medicines_of_interest": ("none",),
    "has_allergies": True,
    "allergies": ({"substance": "Penicillin", "reaction": "Rash"},),
    # Health
    "sex_at_birth": "female",
    "heart_conditions": ("none",),
    "brain_eye_conditions": ("none",),
    "other_health_conditions": ("none",),
    "pregnancy": "no",
    "mental_health_history": ("depression",),
    "past_self_harm": False,
    "alcohol": "monthly_or_less",
    "cannabis": "never",
    "other_drugs": ("none",),
    "substance_problem": False,
    # PHQ-9, GAD-7, PEG
    "phq9_1": 1,
    "phq9_2": 1,
    "phq9_3": 2,
    "phq9_4": 2,
    "phq9_5": 0,
    "phq9_6": 0,
    "phq9_7": 1,
    "phq9_8": 0,
    "phq9_9": 0,
    "phq9_difficulty": "somewhat",
    "gad7_1": 1,
    "gad7_2": 1,
    "gad7_3": 0,
    "gad7_4": 1,
    "gad7_5": 0,
    "gad7_6": 1,
    "gad7_7": 0,
    "peg_pain": 7,
    "peg_enjoyment": 6,
    "peg_activity": 6,
    # Today
    "last_food": 8,
    "last_drink": 4,
}


def consent_answers(packet: Packet) -> dict[str, AnswerValue]:
    """Right answers to every comprehension question, and every attestation given."""
    answers: dict[str, AnswerValue] = {}
    for question in packet.consent.quiz.questions if packet.consent.quiz else ():
        answers[question.id] = question.correct
    for item in packet.consent.attestations:
        given = item.type in (ItemType.AGREE, ItemType.YES_NO)
        answers[item.id] = True if given else item.choices[0].value
    return answers


def signature_strokes(width: float, height: float) -> list[list[tuple[float, float]]]:
    """A flowing two-stroke scribble that looks like a handwritten name."""
    first = [
        (
            width * (0.12 + 0.38 * t),
            height * (0.58 - 0.22 * math.sin(t * 9.0) * (1 - t * 0.4)),
        )
        for t in (i / 80 for i in range(81))
    ]
    second = [
        (
            width * (0.52 + 0.34 * t),
            height * (0.55 - 0.18 * math.sin(t * 11.0 + 1.0) - 0.05 * t),
        )
        for t in (i / 80 for i in range(81))
    ]
    return [first, second]
