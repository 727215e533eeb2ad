"""The formats ``kiosk export --format NAME`` writes: one entry each in :data:`EXPORT_FORMATS`.

A format turns the exported visits (:mod:`kiosk.domain.export_model`) into named files; the
command reads the visits, writes the files aside, audits the export and moves them into place.
``--format`` offers exactly the names registered here, so a new format is one entry (and the test
that walks this registry checks it like the others).

The writers are imported when a format is used, not when the command line is built: the FHIR
writer pulls in pydantic and the FHIR models, which ``kiosk forms check`` should not wait for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from kiosk.domain.export_model import ExportedVisit

ExportedFile = tuple[str, bytes]
"""A file name (no folder) and its content."""


class ExportError(Exception):
    """A visit cannot be written in the format: a fault in the writer, not in the records.

    The message names the resource and the element, never a value (values are patient data).
    """


@dataclass(frozen=True)
class ExportFormat:
    """One ``--format``.

    Attributes:
        name: The ``--format`` value, also the audit event's subject prefix (``fhir:3 visits``).
        files_are: What the files are, as the command's summary line names them.
        include_pdf: Whether the visits must carry their sealed consent PDF (about 100 kB each).
        write: The files for the visits, read as they come (a format that needs them all at
            once collects them itself). File names are built from document numbers only: a file
            name is seen by anyone who lists the folder. Raises :class:`ExportError`.
    """

    name: str
    files_are: str
    include_pdf: bool
    write: Callable[[Iterable[ExportedVisit], dt.datetime], Iterator[ExportedFile]]


def _fhir_files(visits: Iterable[ExportedVisit], now: dt.datetime) -> Iterator[ExportedFile]:
    """``<document number>.json``, one validated FHIR R4 collection bundle per visit."""
    from kiosk.documents.fhir import FhirExportError, bundle_json, visit_bundle

    names: set[str] = set()
    for visit in visits:
        name = f"{visit.document_number}.json"
        if name in names:  # two visits whose ids begin alike: keep both
            name = f"{visit.document_number}-{visit.visit_id}.json"
        try:
            data = bundle_json(visit_bundle(visit, now=now))
        except FhirExportError as exc:
            raise ExportError(str(exc)) from exc
        names.add(name)
        yield name, data


def _csv_files(visits: Iterable[ExportedVisit], now: dt.datetime) -> Iterator[ExportedFile]:
    """``visits.csv``, ``answers.csv`` and ``flags.csv`` (their columns depend on every visit)."""
    from kiosk.documents.csv_export import answers_csv, flags_csv, visits_csv

    every_visit = list(visits)
    yield "visits.csv", visits_csv(every_visit)
    yield "answers.csv", answers_csv(every_visit)
    yield "flags.csv", flags_csv(every_visit)


EXPORT_FORMATS: Mapping[str, ExportFormat] = {
    export.name: export
    for export in (
        ExportFormat("fhir", "FHIR R4 bundles", include_pdf=True, write=_fhir_files),
        ExportFormat("csv", "CSV", include_pdf=False, write=_csv_files),
    )
}
"""Every ``--format``, in the order ``kiosk export --help`` lists them."""
