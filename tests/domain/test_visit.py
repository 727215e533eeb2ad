"""The visit state machine: steps from answers, moving, review and edits, sections, signing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from kiosk.domain.answers import AnswerProblem
from kiosk.domain.model import Packet
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import PageSaved, Step, StepKind, Visit, VisitError

TODAY = dt.date(2024, 6, 1)
NOW = dt.datetime(2024, 6, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))

PAGE_ANSWERS: dict[str, dict[str, object]] = {
    "who": {"full_name": "  Ana   María López "},
    "born": {"birth_date": "1980-2-29"},
    "reason": {"visit_reason": "pain"},
    "reason_other": {"visit_reason_other": "Migraines"},
    "pain": {"pain_now": 6},
}


def page(key: str) -> Step:
    return Step(StepKind.PAGE, key, "intake")


REVIEW = Step(StepKind.REVIEW)
SIGN = Step(StepKind.SIGN)
DONE = Step(StepKind.DONE)
SECTIONS = [Step(StepKind.SECTION, "what_it_is"), Step(StepKind.SECTION, "risks")]


def submit(visit: Visit, raw: dict[str, object] | None = None) -> PageSaved:
    """Submit the current page with ``raw`` (default: the usual answers); it must be accepted."""
    result = visit.submit_page(raw if raw is not None else PAGE_ANSWERS[visit.current.key], TODAY)
    assert isinstance(result, PageSaved), result
    return result


def answer_pages(visit: Visit, **overrides: dict[str, object]) -> None:
    """Answer every page until the review screen."""
    for _ in range(20):
        if visit.current.kind is not StepKind.PAGE:
            break
        submit(visit, overrides.get(visit.current.key))
    assert visit.current == REVIEW


def to_sign(visit: Visit) -> None:
    answer_pages(visit)
    visit.next()
    for _ in SECTIONS:
        visit.next()
    assert visit.current == SIGN


@pytest.fixture
def visit(packet: Packet) -> Visit:
    return Visit(packet, "en")


# --- steps follow the answers ---------------------------------------------------------------------


def test_a_new_visit_starts_on_the_first_page(visit: Visit) -> None:
    assert visit.steps == [
        page("who"),
        page("born"),
        page("reason"),
        page("pain"),
        REVIEW,
        *SECTIONS,
        SIGN,
        DONE,
    ]
    assert visit.current == page("who")
    assert visit.page().id == "who"
    assert visit.progress == (1, 8)
    assert not visit.is_signed
    assert visit.answers == {}


def test_other_page_appears_only_when_other_is_chosen(visit: Visit) -> None:
    submit(visit)
    submit(visit)
    submit(visit, {"visit_reason": "depression"})
    assert visit.current == page("pain")
    assert page("reason_other") not in visit.steps
    assert visit.back()
    submit(visit, {"visit_reason": "other"})
    assert visit.current == page("reason_other")
    assert visit.steps[:5] == [
        page("who"),
        page("born"),
        page("reason"),
        page("reason_other"),
        page("pain"),
    ]
    assert visit.progress == (4, 9)


def test_changing_away_from_other_hides_the_page_and_prunes_its_answer(visit: Visit) -> None:
    submit(visit)
    submit(visit)
    submit(visit, {"visit_reason": "other"})
    submit(visit)
    assert visit.answers["visit_reason_other"] == "Migraines"
    assert visit.current == page("pain")
    assert visit.back() and visit.current == page("reason_other")
    assert visit.back() and visit.current == page("reason")
    saved = submit(visit, {"visit_reason": "pain"})
    assert saved.removed == ("visit_reason_other",)
    assert saved.answers == {"visit_reason": "pain"}
    assert "visit_reason_other" not in visit.answers
    assert page("reason_other") not in visit.steps
    assert visit.current == page("pain")


def test_page_saved_carries_normalised_answers(visit: Visit, packet: Packet) -> None:
    saved = submit(visit)
    assert saved.form is packet.form("intake")
    assert saved.answers == {"full_name": "Ana María López"}
    assert saved.removed == ()
    saved = submit(visit)
    assert saved.answers == {"birth_date": "1980-02-29"}
    assert visit.answers == {"full_name": "Ana María López", "birth_date": "1980-02-29"}
    assert visit.identity("name") == "Ana María López"
    assert visit.identity("birth_date") == "1980-02-29"


def test_an_optional_answer_left_empty_on_resubmission_is_removed(visit: Visit) -> None:
    answer_pages(visit, pain={"pain_now": 6, "pain_notes": "worse at night"})
    assert visit.answers["pain_notes"] == "worse at night"
    visit.edit("pain")
    saved = submit(visit, {"pain_now": 6, "pain_notes": "   "})
    assert saved.removed == ("pain_notes",)
    assert "pain_notes" not in visit.answers


# --- problems keep the patient on the page --------------------------------------------------------


def test_submit_with_problems_stays_on_the_page_and_stores_nothing(visit: Visit) -> None:
    submit(visit)
    submit(visit)
    submit(visit)
    assert visit.current == page("pain")
    before = dict(visit.answers)
    result = visit.submit_page({"pain_now": 11, "pain_notes": "sharp"}, TODAY)
    assert result == {"pain_now": AnswerProblem.OUT_OF_RANGE}
    assert visit.current == page("pain")
    assert visit.answers == before
    result = visit.submit_page({}, TODAY)
    assert result == {"pain_now": AnswerProblem.REQUIRED}
    assert visit.answers == before


def test_problems_on_a_page_being_edited_keep_the_old_answer(visit: Visit) -> None:
    answer_pages(visit)
    visit.edit("born")
    assert visit.submit_page({"birth_date": "2024-06-02"}, TODAY) == {
        "birth_date": AnswerProblem.DATE_FUTURE
    }
    assert visit.current == page("born")
    assert visit.answers["birth_date"] == "1980-02-29"


def test_submitting_on_a_step_that_is_not_a_page_is_refused(visit: Visit) -> None:
    answer_pages(visit)
    with pytest.raises(VisitError):
        visit.submit_page({"pain_now": 3}, TODAY)
    assert visit.current == REVIEW


# --- moving ---------------------------------------------------------------------------------------


def test_progress_counts_every_step_but_the_last(visit: Visit) -> None:
    seen = [visit.progress]
    while visit.current.kind is StepKind.PAGE:
        submit(visit)
        seen.append(visit.progress)
    while visit.current.kind is not StepKind.SIGN:
        visit.next()
        seen.append(visit.progress)
    assert seen == [(n, 8) for n in range(1, 9)]


def test_back_on_the_first_step_returns_false(visit: Visit) -> None:
    assert visit.back() is False
    assert visit.current == page("who")


def test_back_keeps_answers(visit: Visit) -> None:
    submit(visit)
    submit(visit)
    assert visit.back() is True
    assert visit.current == page("born")
    assert visit.back() is True
    assert visit.current == page("who")
    assert visit.answers["birth_date"] == "1980-02-29"


def test_next_is_only_for_review_and_sections(visit: Visit) -> None:
    with pytest.raises(VisitError):
        visit.next()
    assert visit.current == page("who")
    to_sign(visit)
    with pytest.raises(VisitError):
        visit.next()
    assert visit.current == SIGN


def test_review_then_every_section_then_sign(visit: Visit) -> None:
    answer_pages(visit)
    visit.next()
    assert visit.current == SECTIONS[0]
    visit.next()
    assert visit.current == SECTIONS[1]
    assert visit.back() and visit.current == SECTIONS[0]
    visit.next()
    visit.next()
    assert visit.current == SIGN


def test_review_refuses_to_go_on_when_a_required_answer_is_missing(visit: Visit) -> None:
    answer_pages(visit)
    # e.g. a draft resumed from storage that lost an answer
    visit.state = dataclasses.replace(
        visit.state, answers={k: v for k, v in visit.answers.items() if k != "pain_now"}
    )
    assert visit.missing_required() == ["pain_now"]
    with pytest.raises(VisitError):
        visit.next()
    assert visit.current == REVIEW


def test_missing_required_follows_skip_logic(visit: Visit) -> None:
    assert visit.missing_required() == ["full_name", "birth_date", "visit_reason", "pain_now"]
    visit.state = dataclasses.replace(
        visit.state, answers={**visit.answers, "visit_reason": "other"}
    )
    assert visit.missing_required() == [
        "full_name",
        "birth_date",
        "visit_reason_other",
        "pain_now",
    ]


# --- editing from review --------------------------------------------------------------------------


def test_edit_from_review_returns_to_review_after_the_page(visit: Visit) -> None:
    answer_pages(visit)
    visit.edit("born")
    assert visit.current == page("born")
    assert visit.editing_from_review
    submit(visit, {"birth_date": "1981-03-01"})
    assert visit.current == REVIEW
    assert not visit.editing_from_review
    assert visit.answers["birth_date"] == "1981-03-01"


def test_edit_that_reveals_a_page_visits_it_before_review(visit: Visit) -> None:
    answer_pages(visit)
    visit.edit("reason")
    submit(visit, {"visit_reason": "other"})
    assert visit.current == page("reason_other")
    assert visit.editing_from_review
    submit(visit)
    assert visit.current == REVIEW
    assert visit.answers["visit_reason_other"] == "Migraines"
    assert visit.missing_required() == []


def test_edit_that_hides_a_page_prunes_it_and_returns_to_review(visit: Visit) -> None:
    answer_pages(visit, reason={"visit_reason": "other"})
    assert visit.answers["visit_reason_other"] == "Migraines"
    visit.edit("reason")
    saved = submit(visit, {"visit_reason": "depression"})
    assert saved.removed == ("visit_reason_other",)
    assert visit.current == REVIEW
    assert "visit_reason_other" not in visit.answers


def test_edit_is_only_from_review_and_only_for_shown_pages(visit: Visit) -> None:
    with pytest.raises(VisitError):
        visit.edit("who")
    answer_pages(visit)
    with pytest.raises(VisitError):
        visit.edit("reason_other")  # hidden: the patient did not choose "other"
    with pytest.raises(VisitError):
        visit.edit("no_such_page")
    assert visit.current == REVIEW


def test_back_while_editing_gives_up_the_return_to_review(visit: Visit) -> None:
    answer_pages(visit)
    visit.edit("born")
    assert visit.back()
    assert visit.current == page("who")
    assert not visit.editing_from_review
    submit(visit)
    assert visit.current == page("born")


# --- signing --------------------------------------------------------------------------------------


def test_sign_refuses_when_not_at_the_signing_step(visit: Visit, scribble: DrawnSignature) -> None:
    with pytest.raises(VisitError):
        visit.sign(scribble, NOW)
    answer_pages(visit)
    with pytest.raises(VisitError):
        visit.sign(scribble, NOW)
    visit.next()
    with pytest.raises(VisitError):
        visit.sign(scribble, NOW)
    assert not visit.is_signed
    assert visit.current == SECTIONS[0]


@pytest.mark.parametrize(
    "strokes",
    [(), (((10.0, 10.0),),), (tuple((300.0 + i % 2, 100.0) for i in range(30)),)],
    ids=["empty", "tap", "dot"],
)
def test_sign_refuses_a_trivial_signature(
    visit: Visit, strokes: tuple[tuple[tuple[float, float], ...], ...]
) -> None:
    to_sign(visit)
    with pytest.raises(VisitError):
        visit.sign(DrawnSignature(strokes, 600.0, 200.0), NOW)
    assert not visit.is_signed
    assert visit.signing is None
    assert visit.current == SIGN


def test_sign_refuses_a_time_without_utc_offset(visit: Visit, scribble: DrawnSignature) -> None:
    to_sign(visit)
    with pytest.raises(VisitError):
        visit.sign(scribble, dt.datetime(2024, 6, 1, 10, 30))
    assert not visit.is_signed
    assert visit.current == SIGN


def test_sign_refuses_when_answers_went_missing(visit: Visit, scribble: DrawnSignature) -> None:
    to_sign(visit)
    visit.state = dataclasses.replace(
        visit.state, answers={k: v for k, v in visit.answers.items() if k != "full_name"}
    )
    with pytest.raises(VisitError):
        visit.sign(scribble, NOW)
    assert not visit.is_signed


def test_signing_records_the_signature_and_finishes(
    visit: Visit, packet: Packet, scribble: DrawnSignature
) -> None:
    to_sign(visit)
    signing = visit.sign(scribble, NOW)
    assert visit.signing is signing
    assert visit.is_signed
    assert visit.current == DONE
    assert visit.current.kind is StepKind.DONE
    assert signing.signer_name == "Ana María López"
    assert signing.signed_at == NOW
    assert signing.signature is scribble
    assert signing.statement == packet.consent.statement.get("en")
    assert signing.meaning == "Consent to treatment"
    expected = hashlib.sha256(packet.consent.full_text("en").encode("utf-8")).hexdigest()
    assert signing.text_sha256 == expected
    assert visit.consent_text_sha256() == expected
    assert visit.progress == (8, 8)


def test_a_signed_visit_is_closed(visit: Visit, scribble: DrawnSignature) -> None:
    to_sign(visit)
    visit.sign(scribble, NOW)
    answers = dict(visit.answers)
    assert visit.back() is False
    assert visit.current == DONE
    with pytest.raises(VisitError):
        visit.submit_page({"pain_now": 1}, TODAY)
    with pytest.raises(VisitError):
        visit.next()
    with pytest.raises(VisitError):
        visit.edit("pain")
    with pytest.raises(VisitError):
        visit.sign(scribble, NOW)
    assert visit.answers == answers
    assert visit.current == DONE


def test_consent_hash_is_of_the_text_in_the_visit_language(
    packet: Packet, scribble: DrawnSignature
) -> None:
    signed: dict[str, str] = {}
    for language in ("en", "es"):
        visit = Visit(packet, language)
        to_sign(visit)
        signing = visit.sign(scribble, NOW)
        text = packet.consent.full_text(language)
        assert signing.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert signing.statement == packet.consent.statement.get(language)
        signed[language] = signing.text_sha256
    assert signed["en"] != signed["es"]
    assert "Riesgos" in packet.consent.full_text("es")
    assert "(version 2)" in packet.consent.full_text("es")


# --- checkpoints ----------------------------------------------------------------------------------


def test_rollback_puts_back_everything_a_failed_step_did(visit: Visit) -> None:
    answer_pages(visit, reason={"visit_reason": "other"})
    visit.edit("reason")
    checkpoint = visit.checkpoint()
    submit(visit, {"visit_reason": "pain"})
    assert "visit_reason_other" not in visit.answers
    visit.rollback(checkpoint)
    assert visit.current == page("reason")
    assert visit.editing_from_review
    assert visit.answers["visit_reason"] == "other"
    assert visit.answers["visit_reason_other"] == "Migraines"


def test_rollback_after_a_failed_paper_save_leaves_the_visit_at_signing(visit: Visit) -> None:
    """The paper choice could not be saved: the visit is not paper, the patient can go back,
    and choosing paper again works (it raised VisitError before the state was one object)."""
    to_sign(visit)
    checkpoint = visit.checkpoint()
    visit.choose_paper()
    assert visit.paper and visit.is_signed
    visit.rollback(checkpoint)
    assert not visit.paper and not visit.is_signed
    assert visit.current == SIGN
    assert visit.back() and visit.current == SECTIONS[-1]
    visit.next()
    visit.choose_paper()
    assert visit.paper and visit.current == DONE


def test_a_checkpoint_is_the_whole_state(visit: Visit) -> None:
    """Every field of the visit's state comes back on rollback: nothing is copied by hand."""
    to_sign(visit)
    checkpoint = visit.checkpoint()
    visit.choose_paper()
    visit.rollback(checkpoint)
    assert visit.checkpoint() == checkpoint
