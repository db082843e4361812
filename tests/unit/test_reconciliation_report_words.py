"""The reconciliation report says each weapon's status in the one vocabulary
(``domain.vocabulary.STATUS_NAMES``), as the pages, the exports and the import do: the
same weapon is not "dada de baja" on the screen and "Baja" in the inspector's printed
report, and a new status needs no line of its own in the report."""

from __future__ import annotations

import pytest

from resguardo.domain.codes import FirearmStatus
from resguardo.domain.reconciliation import Finding, FindingKind, RegistryEntry
from resguardo.domain.vocabulary import STATUS_NAMES, parse_status
from resguardo.reports.reconciliation import LABELS, finding_cells


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("status", list(FirearmStatus))
def test_the_report_says_the_status_word_of_the_vocabulary(status, language):
    entry = RegistryEntry("GLK-1", status=status, make="Glock")
    finding = Finding(FindingKind.MISSING, "GLK-1", "Glock", entry, None)
    word = finding_cells(finding, language)["col_status"]
    expected = STATUS_NAMES[language][status.value]
    assert word == expected[:1].upper() + expected[1:]
    assert parse_status(word) is status  # and reads back to its code


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_report_keeps_no_status_words_of_its_own(language):
    assert not [key for key in LABELS[language] if key.startswith("status.")]
