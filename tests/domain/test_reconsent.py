"""Re-consent: who signs the consent again, the month arithmetic, and the visit that ends at
review when the consent on file is still current."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from kiosk.domain.model import Packet
from kiosk.domain.reconsent import (
    ConsentNeed,
    NeedKind,
    PriorConsent,
    add_months,
    decide,
)
from kiosk.domain.signature import DrawnSignature
from kiosk.domain.visit import Step, StepKind, Visit, VisitError
from tests.domain.test_visit import NOW, REVIEW, answer_pages

EST = dt.timezone(dt.timedelta(hours=-5))


class Current:
    """The consent shown today (id and version are all the rules read)."""

    id = "ketamine_consent"
    version = 2


def signed(day: dt.date, version: int = 2, hour: int = 9) -> PriorConsent:
    moment = dt.datetime(day.year, day.month, day.day, hour, 14, tzinfo=EST)
    return PriorConsent("ketamine_consent", version, moment, visit_id="v1")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=EST)


# --- the four outcomes ----------------------------------------------------------------------------


def test_never_signed_is_a_first_consent() -> None:
    need = decide(None, Current(), at(dt.date(2026, 11, 22)), 12)
    assert need.kind is NeedKind.FIRST
    assert need.asks_consent and not need.is_renewal
    assert (need.prior, need.valid_through) == (None, None)
    assert need.staff_label() == "first consent"


def test_a_consent_of_another_document_is_no_consent_to_this_one() -> None:
    other = PriorConsent("sedation_consent", 2, at(dt.date(2026, 11, 1)))
    assert decide(other, Current(), at(dt.date(2026, 11, 22))).kind is NeedKind.FIRST


def test_a_recent_consent_of_this_version_is_current() -> None:
    prior = signed(dt.date(2026, 5, 2))
    need = decide(prior, Current(), at(dt.date(2026, 11, 22)), 12)
    assert need.kind is NeedKind.CURRENT
    assert not need.asks_consent and not need.is_renewal
    assert need.prior == prior
    assert need.valid_through == dt.date(2027, 5, 2)
    assert need.staff_label() == "consent on file: version 2 signed 2026-05-02"


def test_an_older_version_is_signed_again() -> None:
    need = decide(signed(dt.date(2026, 10, 1), version=1), Current(), at(dt.date(2026, 11, 22)))
    assert need.kind is NeedKind.RENEW_VERSION
    assert need.asks_consent and need.is_renewal
    assert need.staff_label() == "re-consent: version 1 → 2"


def test_a_newer_version_than_this_kiosk_shows_is_signed_again_too() -> None:
    need = decide(signed(dt.date(2026, 10, 1), version=3), Current(), at(dt.date(2026, 11, 22)))
    assert need.kind is NeedKind.RENEW_VERSION
    assert need.staff_label() == "re-consent: version 3 → 2"


def test_an_old_version_that_has_also_expired_names_the_version() -> None:
    need = decide(signed(dt.date(2020, 1, 1), version=1), Current(), at(dt.date(2026, 11, 22)))
    assert need.kind is NeedKind.RENEW_VERSION


def test_a_consent_older_than_the_validity_is_signed_again() -> None:
    need = decide(signed(dt.date(2025, 10, 22)), Current(), at(dt.date(2026, 11, 22)), 12)
    assert need.kind is NeedKind.RENEW_EXPIRED
    assert need.asks_consent and need.is_renewal
    assert need.staff_label() == "re-consent: signed 2025-10-22, older than 12 months"


def test_the_validity_is_the_clinics_setting() -> None:
    prior = signed(dt.date(2026, 4, 1))
    today = at(dt.date(2026, 11, 22))
    assert decide(prior, Current(), today, 12).kind is NeedKind.CURRENT
    need = decide(prior, Current(), today, 6)
    assert need.kind is NeedKind.RENEW_EXPIRED
    assert need.staff_label() == "re-consent: signed 2026-04-01, older than 6 months"


@pytest.mark.parametrize("months", [0, -12])
def test_a_validity_of_no_months_is_refused(months: int) -> None:
    with pytest.raises(ValueError, match="at least one month"):
        decide(None, Current(), at(dt.date(2026, 11, 22)), months)


# --- the boundary, on calendar dates --------------------------------------------------------------


def test_on_the_anniversary_the_consent_is_still_current_and_the_next_day_it_is_due() -> None:
    prior = signed(dt.date(2025, 11, 22), hour=9)
    late_on_the_day = at(dt.date(2026, 11, 22), hour=23)
    assert decide(prior, Current(), late_on_the_day, 12).kind is NeedKind.CURRENT
    next_morning = at(dt.date(2026, 11, 23), hour=0)
    assert decide(prior, Current(), next_morning, 12).kind is NeedKind.RENEW_EXPIRED


def test_the_signing_date_is_the_date_the_patient_saw_not_the_utc_date() -> None:
    # 21:30 at the clinic is already the next day in UTC
    evening = PriorConsent("ketamine_consent", 2, dt.datetime(2025, 11, 22, 21, 30, tzinfo=EST))
    assert evening.signed_on == dt.date(2025, 11, 22)
    need = decide(evening, Current(), at(dt.date(2026, 11, 22)), 12)
    assert need.kind is NeedKind.CURRENT
    assert need.staff_label().endswith("signed 2025-11-22")


def test_a_signature_dated_after_now_is_not_expired() -> None:
    prior = signed(dt.date(2026, 11, 23))  # a tablet's clock was ahead
    assert decide(prior, Current(), at(dt.date(2026, 11, 22))).kind is NeedKind.CURRENT


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2025, 1, 31), 1, dt.date(2025, 2, 28)),
        (dt.date(2024, 1, 31), 1, dt.date(2024, 2, 29)),  # leap year
        (dt.date(2025, 3, 31), 1, dt.date(2025, 4, 30)),
        (dt.date(2025, 1, 31), 2, dt.date(2025, 3, 31)),  # not clamped twice
        (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
        (dt.date(2024, 2, 29), 48, dt.date(2028, 2, 29)),
        (dt.date(2025, 12, 15), 1, dt.date(2026, 1, 15)),  # over the year's end
        (dt.date(2025, 11, 30), 14, dt.date(2027, 1, 30)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2026, 1, 10), -1, dt.date(2025, 12, 10)),
        (dt.date(2026, 5, 17), 0, dt.date(2026, 5, 17)),
    ],
)
def test_add_months_at_month_ends(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def test_signed_on_the_31st_a_one_month_consent_runs_to_the_end_of_february() -> None:
    prior = signed(dt.date(2025, 1, 31))
    assert decide(prior, Current(), at(dt.date(2025, 2, 28)), 1).kind is NeedKind.CURRENT
    assert decide(prior, Current(), at(dt.date(2025, 3, 1)), 1).kind is NeedKind.RENEW_EXPIRED


def test_signed_on_leap_day_a_year_later_it_runs_to_february_28() -> None:
    prior = signed(dt.date(2024, 2, 29))
    need = decide(prior, Current(), at(dt.date(2025, 2, 28)), 12)
    assert (need.kind, need.valid_through) == (NeedKind.CURRENT, dt.date(2025, 2, 28))
    assert decide(prior, Current(), at(dt.date(2025, 3, 1)), 12).kind is NeedKind.RENEW_EXPIRED


# --- the visit ends at review when the consent is on file -----------------------------------------


def current_need(packet: Packet, version: int | None = None) -> ConsentNeed:
    prior = PriorConsent(
        packet.consent.id, version or packet.consent.version, NOW - dt.timedelta(days=30)
    )
    return decide(prior, packet.consent, NOW)


@pytest.fixture
def visit(packet: Packet) -> Visit:
    return Visit(packet, "en")


def test_a_consent_on_file_ends_the_visit_after_review(visit: Visit, packet: Packet) -> None:
    answer_pages(visit)
    need = current_need(packet)
    assert need.kind is NeedKind.CURRENT
    prior = visit.keep_consent_on_file(need)
    assert prior == need.prior == visit.on_file
    assert visit.current == Step(StepKind.DONE)
    assert visit.steps[-2:] == [REVIEW, Step(StepKind.DONE)]
    assert not any(s.kind in (StepKind.SECTION, StepKind.SIGN) for s in visit.steps)
    assert visit.progress == (len(visit.steps) - 1, len(visit.steps) - 1)
    assert visit.signing is None and not visit.paper
    assert visit.is_signed  # closed: nothing more can change
    assert visit.back() is False
    with pytest.raises(VisitError):
        visit.next()
    with pytest.raises(VisitError):
        visit.keep_consent_on_file(need)


def test_a_consent_on_file_is_only_accepted_at_review(visit: Visit, packet: Packet) -> None:
    with pytest.raises(VisitError, match="review"):
        visit.keep_consent_on_file(current_need(packet))
    answer_pages(visit)
    visit.next()  # on to the first section
    with pytest.raises(VisitError, match="review"):
        visit.keep_consent_on_file(current_need(packet))
    assert visit.on_file is None


def test_only_a_current_consent_of_this_version_is_kept(visit: Visit, packet: Packet) -> None:
    answer_pages(visit)
    old_version = current_need(packet, version=packet.consent.version - 1)
    assert old_version.kind is NeedKind.RENEW_VERSION
    with pytest.raises(VisitError, match="current consent"):
        visit.keep_consent_on_file(old_version)
    with pytest.raises(VisitError, match="current consent"):
        visit.keep_consent_on_file(decide(None, packet.consent, NOW))
    assert visit.on_file is None and visit.current == REVIEW


def test_a_consent_on_file_needs_every_answer(visit: Visit, packet: Packet) -> None:
    answer_pages(visit)
    visit.state = dataclasses.replace(
        visit.state, answers={k: v for k, v in visit.answers.items() if k != "full_name"}
    )
    with pytest.raises(VisitError, match="complete"):
        visit.keep_consent_on_file(current_need(packet))


def test_rollback_undoes_a_consent_on_file(visit: Visit, packet: Packet) -> None:
    answer_pages(visit)
    checkpoint = visit.checkpoint()
    visit.keep_consent_on_file(current_need(packet))
    visit.rollback(checkpoint)
    assert visit.on_file is None and not visit.is_signed
    assert visit.current == REVIEW
    visit.next()
    assert visit.current.kind is StepKind.SECTION


def test_a_renewal_changes_no_step(visit: Visit, packet: Packet, scribble: DrawnSignature) -> None:
    answer_pages(visit)
    before = visit.steps
    visit.renewal = current_need(packet, version=packet.consent.version - 1)
    assert visit.steps == before
    visit.next()
    while visit.current.kind is StepKind.SECTION:
        visit.next()
    assert visit.sign(scribble, NOW).signed_at == NOW
