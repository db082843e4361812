"""Custody on a date, as a pure replay of (type, at, payload) entries."""

from __future__ import annotations

import pytest

from resguardo.domain.errors import ValidationFailed
from resguardo.domain.trace_custody import custody_on, parse_moment

REGISTERED = ("firearm.registered", "2025-03-03T08:00:00.000000Z",
              {"status": "in_storage", "agency_id": 1, "location_id": 10,
               "licence_id": None})
ISSUED = ("custody.issued", "2025-03-04T09:00:00.000000Z", {"officer_id": 7})
RETURNED = ("custody.returned", "2025-03-04T21:00:00.000000Z", {"officer_id": 7,
                                                                "location_id": 11})
REISSUED = ("custody.issued", "2025-03-05T00:00:00.000000Z", {"officer_id": 8})
HISTORY = [REGISTERED, ISSUED, RETURNED, REISSUED]


def at(when: str):  # type: ignore[no-untyped-def]
    found = custody_on(HISTORY, parse_moment(when))
    return found.state.status, found.state.location_id, found.custodian_id


def test_an_instant_sees_every_entry_recorded_at_or_before_it():
    assert at("2025-03-04T09:00") == ("issued", None, 7)
    assert at("2025-03-04T08:59") == ("in_storage", 10, None)
    assert at("2025-03-04T21:00:00Z") == ("in_storage", 11, None)


def test_an_offset_is_turned_into_utc():
    assert at("2025-03-04T15:30-06:00") == ("in_storage", 11, None)  # 21:30 UTC


def test_a_day_names_its_last_holder_and_ends_at_midnight():
    assert at("2025-03-04") == ("in_storage", 11, 7)
    assert at("2025-03-05") == ("issued", None, 8)  # issued at 00:00: the next day's
    assert at("2025-03-03") == ("in_storage", 10, None)


def test_a_holder_from_the_day_before_held_it_that_day_too():
    history = [REGISTERED, ("custody.issued", "2025-03-03T20:00:00.000000Z", {"officer_id": 5}),
               ("custody.returned", "2025-03-04T07:00:00.000000Z", {"location_id": 10})]
    found = custody_on(history, parse_moment("2025-03-04"))
    assert (found.state.status, found.custodian_id) == ("in_storage", 5)


def test_before_the_registration_there_is_nothing():
    assert at("2025-03-02") == (None, None, None)


@pytest.mark.parametrize("text", ["", "2025-3-4", "2025-03-04T9", "04/03/2025", "2025-02-29",
                                  "2025-03-04X10:00", "2025-03-04T10:00+99:00"])
def test_a_malformed_moment_is_refused(text):
    with pytest.raises(ValidationFailed, match="date must be"):
        parse_moment(text)
