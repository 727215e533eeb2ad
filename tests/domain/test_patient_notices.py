"""``patient_notice:`` on a flag: the loader knows the notices, and the strings table has the
words of each (and of no other)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import paths
from kiosk.domain.errors import FormError
from kiosk.domain.loader import load_document, load_packet
from kiosk.domain.model import LANGUAGES, PATIENT_NOTICES, ConsentDocument, Form
from kiosk.domain.strings import Strings

FORM = """\
kind: questionnaire
id: mood
version: 1
title: {en: Mood, es: Ánimo}
pages:
  - id: low_page
    items:
      - id: low
        type: yes_no
        text: {en: Do you feel low, es: Se siente decaído}
flags:
  - id: feels_low
    severity: urgent
    when: {item: low, equals: true}
    message: {en: Feels low, es: Se siente decaído}
    patient_notice: NOTICE
"""

CONSENT = """\
kind: consent
id: consent
version: 1
title: {en: Consent, es: Consentimiento}
sections:
  - {id: about, title: {en: About, es: Acerca}, body: {en: Text, es: Texto}}
statement: {en: I agree, es: Acepto}
meaning: {en: Consent, es: Consentimiento}
attestations:
  - {id: attest_read, type: agree, text: {en: I read it, es: Lo leí}}
flags:
  - id: not_read
    severity: review
    when: {item: attest_read, equals: false}
    message: {en: Did not read, es: No leyó}
    patient_notice: crisis
"""


def _load(tmp_path: Path, text: str) -> Form | ConsentDocument:
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return load_document(path)


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(FormError) as caught:
        _load(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_a_flag_names_a_known_notice(tmp_path: Path) -> None:
    form = _load(tmp_path, FORM.replace("NOTICE", "crisis"))
    assert isinstance(form, Form)
    assert form.flags[0].patient_notice == "crisis"


def test_a_flag_without_a_notice_has_none(tmp_path: Path) -> None:
    form = _load(tmp_path, FORM.replace("    patient_notice: NOTICE\n", ""))
    assert isinstance(form, Form)
    assert form.flags[0].patient_notice == ""


def test_an_unknown_notice_is_reported_at_its_line_with_the_nearest(tmp_path: Path) -> None:
    line = FORM.splitlines().index("    patient_notice: NOTICE") + 1
    assert _problems(tmp_path, FORM.replace("NOTICE", "crisys")) == [
        f"{tmp_path / 'doc.yaml'}:{line}: flag 'feels_low' 'patient_notice' is 'crisys', which "
        "is not a notice the kiosk has; use one of crisis; did you mean 'crisis'?"
    ]


def test_a_consent_flag_cannot_have_a_notice(tmp_path: Path) -> None:
    """A consent's flags are raised by the attestations, which show no notice: refused rather
    than silently never shown."""
    line = CONSENT.splitlines().index("    patient_notice: crisis") + 1
    problems = _problems(tmp_path, CONSENT)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'doc.yaml'}:{line}: flag 'not_read' has a ")
    assert "only a questionnaire's flags can have one" in problems[0]


def test_phq9_item_9_shows_the_crisis_notice() -> None:
    shipped = load_packet(paths.FORMS_DIR)
    flag = next(f for f in shipped.form("phq9").flags if f.id == "phq9_item9")
    assert flag.patient_notice == "crisis"


def test_every_notice_has_its_words_and_the_strings_hold_no_other(strings: Strings) -> None:
    keys = [key.split(".") for key in strings.table if key.startswith("notice.")]
    assert {k[1] for k in keys if len(k) == 2} == {"continue"}
    assert {k[1] for k in keys if len(k) > 2} == set(PATIENT_NOTICES)
    for name in PATIENT_NOTICES:
        for part in ("title", "body", "help"):
            for language in LANGUAGES:
                assert strings.table[f"notice.{name}.{part}"][language].strip()
