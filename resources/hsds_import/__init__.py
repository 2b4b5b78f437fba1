"""Import HSDS 3.0 into the directory: JSON objects, arrays, API pages, and the tabular form
(the CSV datapackage, or its JSON twin `{"services.csv": [...], ...}`).

The rules (docs/directory.md, "Import"):

- The HSDS `id` is our `public_id`: an object whose id is in the directory is updated, any
  other is created. Nothing is deleted, and a relation the file does not state (a phone's
  location, a location's organization) is left as it is, so a partial file cannot undo the rest
  of the directory. A row that would not change is not written, so `updated_at` (the API's
  `last_modified`) only moves when something did.
- Everything is validated before anything is written: each JSON object against its HSDS schema
  (resources/hsds_schemas.py), each tabular row against its table's, then every object against
  what our tables hold (lengths, choices, the check and unique constraints, references). One
  rejected object means nothing is written, unless `partial` is asked for.
- The same object may appear many times (a phone under its service, its location and its
  contact): the occurrences merge into one row with every owner they name. Differing values
  for one field are a rejection.
- What HSDS has and we do not keep (programs, funding, service areas, accessibility, metadata,
  organization identifiers, attributes on anything but a service, schedule `timezone`, `count`,
  `byweekno`, `byyearday`) is counted and reported, not rejected. So are references to objects
  that are neither in the file nor in the directory, when the row can do without them.
- An input read before, byte for byte with the same options, meeting a directory that nothing
  has changed since that import wrote, is answered from that import's report
  (unchanged.py): each of its records counted unchanged, nothing read again.
- Our extensions: a schedule without `closed` is not a closure (as in our export); a service
  without `accepts_referrals`, `referral_response_hours` or `last_verified_at` keeps its own
  (a partner's feed does not know them). Live capacity is never touched.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.db import transaction

from acs.progress import BarFactory, no_bar
from resources.models import Organization
from resources.services.opening_hours import opening_intervals_refresh
from resources.services.search import search_refresh_deferred

from . import unchanged
from .collect import Progress
from .kinds import TOP_KINDS
from .read import HsdsInputError, read
from .report import Report
from .write import Importer

__all__ = ["TOP_KINDS", "HsdsInputError", "Report", "directory_import"]

# --- the service -----------------------------------------------------------------------------


def directory_import(
    path: Path,
    *,
    kind: str | None = None,
    partial: bool = False,
    dry_run: bool = False,
    organization: uuid.UUID | None = None,
    progress: Progress = lambda s: None,
    bar: BarFactory = no_bar,
    recheck: bool = False,
) -> Report:
    """Import an HSDS file or datapackage into the directory (see the module docstring).

    Nothing is written when an object is rejected (unless `partial`) or on a dry run. With
    `recheck`, an input imported before is read and checked all the same. Raises
    HsdsInputError when the input cannot be read at all.
    """
    if kind is not None and kind not in TOP_KINDS:
        raise HsdsInputError(f"--type must be one of {', '.join(TOP_KINDS)}.")
    path = Path(path)
    files = unchanged.input_files(path)
    digest = None
    if files is not None:
        digest = unchanged.input_digest(path, files, kind, organization)
        report = Report(source=str(path), dry_run=dry_run, partial=partial)
        if not recheck and unchanged.earlier_report(digest, unchanged.directory_mark(), report):
            report.written = not dry_run
            return report
    source, report = read(path, kind)
    report.dry_run, report.partial = dry_run, partial
    importer = Importer(report, organization=organization, progress=progress, bar=bar)
    importer.collect(source)
    with transaction.atomic():
        if organization and not (
            ("organization", organization) in importer.records
            or Organization.objects.filter(public_id=organization).exists()
        ):
            raise HsdsInputError(
                f"--organization {organization} is not in the file nor the directory."
            )
        importer.check()
        if dry_run or (report.rejected and not partial):
            return report
        # Each service's document and each place's search row once, at the end, not per
        # batch and again for its terms, languages, capacity and opening spans (the spans
        # written after the rows would rewrite every row a second time: 47.6 -> 56.7 s for
        # a first import of 20,000 services).
        with search_refresh_deferred():
            importer.write()
            opening_intervals_refresh(**importer.hours_owners)
        report.written = True
        if digest is not None and not report.rejected and set(source.files) == set(files):
            unchanged.remember(str(path), digest, report)
    return report
