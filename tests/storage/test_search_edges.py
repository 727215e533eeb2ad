"""Search text at the ends of Unicode: the range's upper bound never overflows (issue 17)."""

from __future__ import annotations

import sys

import pytest

from kiosk.domain.model import Packet
from kiosk.storage import console
from kiosk.storage.db import Database
from kiosk.storage.search import _next_prefix
from tests.storage.conftest import add_draft

LAST = chr(sys.maxunicode)  # U+10FFFF


@pytest.mark.parametrize(
    ("folded", "high"),
    [
        ("ana", "anb"),
        (f"ana{LAST}", "anb"),
        (f"ana{LAST}{LAST}", "anb"),
        (LAST, None),
        ("an\ud7ff", "an\ue000"),  # the surrogates are stepped over
    ],
)
def test_the_upper_bound_of_a_prefix(folded: str, high: str | None) -> None:
    assert _next_prefix(folded) == high


@pytest.mark.parametrize("typed", [f"Ana{LAST}", LAST, f"{LAST}{LAST}", f"an{LAST}", "an\ud7ff"])
def test_a_search_ending_in_the_last_code_point_finds_what_it_should(
    db: Database, packet: Packet, typed: str
) -> None:
    add_draft(db, packet, "Ana Ruiz")
    add_draft(db, packet, "Anb Test")
    with db.begin() as session:
        found = [entry.patient_name for entry in console.find_visits(session, packet, name=typed)]
        plain = [entry.patient_name for entry in console.find_visits(session, packet, name="ana")]
    assert found == []  # no name starts with it: nothing, and no error
    assert plain == ["Ana Ruiz"]
