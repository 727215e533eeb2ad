"""The ``kiosk`` command (DESIGN §7). Qt is imported only by the commands that need it."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import paths
from kiosk.config import Settings
from kiosk.documents.exports import EXPORT_FORMATS, ExportError
from kiosk.domain.errors import FormError
from kiosk.domain.loader import check_paths, load_document, load_packet
from kiosk.domain.model import Form
from kiosk.domain.scoring import UnscorableAnswersError, score_raw_answers

if TYPE_CHECKING:
    from kiosk.domain.export_model import ExportedVisit
    from kiosk.storage.db import Database

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MAX_PDF_BYTES = 50 * 1024 * 1024
"""``kiosk verify`` reads no more than this: a consent PDF is well under a megabyte, and a huge
file would take the memory of the whole computer (a 1.6 GB file did) before it is refused."""
MAX_RETENTION_HOURS = 24 * 365 * 100  # ``drafts purge --older-than-hours``: a century at most

Handler = Callable[[argparse.Namespace], int]
"""What each command's parser names with ``set_defaults(handler=...)``; :func:`main` calls it."""
Command = Callable[[Settings, argparse.Namespace], int]
"""A command that needs the settings (``--database`` among them)."""


def _person(command: argparse.ArgumentParser, who: str) -> None:
    """``--staff ID`` and ``--pin-stdin``: records that leave the kiosk name a person."""
    command.add_argument(
        "--staff",
        metavar="ID",
        help=f"who takes the records ({who}); the PIN is asked, or read with --pin-stdin",
    )
    command.add_argument(
        "--pin-stdin", action="store_true", help="read the PIN from standard input (scripts)"
    )


EXPORT_ROLES = ("clinician", "admin", "service")
BACKUP_ROLES = ("admin", "service")


def _named_person(
    settings: Settings, db: Database, args: argparse.Namespace, action: str, roles: tuple[str, ...]
) -> str | None:
    """The staff id behind ``action`` (checked with its PIN through the lockout, audited), or
    None after a plain message on standard error."""
    from kiosk.storage import staff
    from kiosk.storage.staff import PinCheck

    what = action.split(".", 1)[1]
    article = "An" if what[:1] in "aeiou" else "A"
    if not args.staff:
        print(
            f"{article} {what} names a person: give --staff ID ({', '.join(roles)}); the PIN is "
            "asked, or read from standard input with --pin-stdin (for a scheduled job, an "
            "administrator makes a service account: kiosk staff-user add ID --name … --role "
            "service)",
            file=sys.stderr,
        )
        return None
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    else:
        import getpass

        pin = getpass.getpass("PIN: ")
    now = dt.datetime.now(dt.UTC)
    with db.begin() as session:
        result = staff.check_pin_audited(
            session, args.staff, pin, action=action, device=settings.kiosk_id, now=now
        )
    if result.check is PinCheck.LOCKED:
        print("That staff id is locked after too many wrong PINs; try later.", file=sys.stderr)
        return None
    if result.check is not PinCheck.OK:
        print("The staff id or PIN is not right.", file=sys.stderr)
        return None
    if result.role not in roles:
        print(f"{article} {what} needs one of these accounts: {', '.join(roles)}.", file=sys.stderr)
        return None
    return result.staff_id


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: KIOSK_DATABASE_URL, else the embedded SQLite file)",
    )
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Intake and consent kiosk for ketamine infusion clinics."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="start the patient kiosk")
    run.add_argument("--windowed", action="store_true", help="a normal window (development)")
    run.set_defaults(handler=_run)
    staff_console = commands.add_parser(
        "staff",
        parents=[common],
        help="the staff console: live queue, red flags, visit detail, preview and print",
    )
    staff_console.set_defaults(handler=_staff_console)

    demo = commands.add_parser(
        "demo", parents=[common], help="drive the real kiosk offscreen through a synthetic visit"
    )
    demo.add_argument("--out", type=Path, required=True, metavar="DIR")
    demo.add_argument("--language", choices=("en", "es"), default="en")
    demo.add_argument("--screenshots", type=Path, metavar="DIR", help="save each screen as PNG")
    demo.add_argument(
        "--answers",
        metavar="FILE",
        help='JSON answers in place of the demo patient\'s, e.g. {"phq9_9": 2}; - = stdin',
    )
    demo.set_defaults(handler=_demo)

    shots = commands.add_parser(
        "screenshots", parents=[common], help="a picture of every kind of screen (under Xvfb)"
    )
    shots.add_argument("--out", type=Path, default=Path("docs/screens/gallery"), metavar="DIR")
    shots.set_defaults(handler=_screenshots)

    forms = commands.add_parser("forms", help="check and score form files")
    forms_commands = forms.add_subparsers(dest="forms_command", required=True, metavar="ACTION")
    check = forms_commands.add_parser(
        "check", parents=[common], help="report every problem in form files"
    )
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.set_defaults(handler=_forms_check)
    score = forms_commands.add_parser(
        "score", parents=[common], help="score a file of answers as JSON"
    )
    score.add_argument("form", metavar="FORM", help="a form id (e.g. phq9) or a form file")
    score.add_argument("--answers", required=True, metavar="FILE", help="JSON answers, - = stdin")
    score.set_defaults(handler=_forms_score)

    staff = commands.add_parser("staff-user", help="add, disable or re-PIN a staff user")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = staff_commands.add_parser("add", parents=[common], help="create a staff user")
    add.add_argument("staff_id", metavar="ID", help="a unique id, e.g. maria.lopez")
    add.add_argument("--name", required=True, help="the name shown to other staff")
    add.add_argument(
        "--role",
        choices=("staff", "clinician", "admin", "service"),
        default="staff",
        help="service: an account for a scheduled export or backup (never signs in to a console)",
    )
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    disable = staff_commands.add_parser("disable", parents=[common], help="disable a staff user")
    disable.add_argument("staff_id", metavar="ID")
    reset = staff_commands.add_parser("reset-pin", parents=[common], help="set a new PIN")
    reset.add_argument("staff_id", metavar="ID")
    reset.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    for staff_change in (add, disable, reset):  # one transaction and audit event, three changes
        staff_change.set_defaults(handler=_staff_user)
    verify_pdf = commands.add_parser(
        "verify",
        parents=[common],
        help="check a consent PDF: sealed by this clinic, unchanged, and in the records",
    )
    verify_pdf.add_argument("pdf", type=Path, metavar="FILE.pdf")
    verify_pdf.set_defaults(handler=_verify_pdf)

    certs = commands.add_parser("certs", help="the clinic's seal certificates")
    certs_commands = certs.add_subparsers(dest="certs_command", required=True, metavar="ACTION")
    certs_init = certs_commands.add_parser(
        "init",
        parents=[common],
        help="create the clinic's root certificate and this kiosk's seal certificate",
    )
    certs_init.set_defaults(handler=_certs_init)

    audit = commands.add_parser("audit", help="check the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", parents=[common], help="walk the audit chain; exit 0 only when unbroken"
    )
    verify.add_argument(
        "--head",
        metavar="SEQ:MAC",
        help="the newest head you trust (e.g. printed on a consent): finds events cut off the end",
    )
    verify.add_argument(
        "--anchors",
        metavar="DIR",
        type=Path,
        help="a folder of head files kept by consoles and alert watchers (audit-head-seen-…): "
        "the trail must hold each head, with the same mac, and reach at least as far",
    )
    verify.set_defaults(handler=_audit_verify)
    adopt = audit_commands.add_parser(
        "adopt-head",
        parents=[common],
        help="after an upgrade, or on a new tablet: keep the current head of a verified trail "
        "(audited); the head file there before is kept aside",
    )
    adopt.add_argument(
        "--anchors", metavar="DIR", type=Path, help="check against these head files first"
    )
    adopt.set_defaults(handler=_audit_adopt_head)

    backup = commands.add_parser(
        "backup", parents=[common], help="a consistent, checked copy of the records"
    )
    backup.add_argument("destination", type=Path, metavar="DEST", help="a new file")
    _person(backup, "an administrator or a service account")
    backup.set_defaults(handler=_backup)
    restore = commands.add_parser(
        "restore", parents=[common], help="put a checked backup in place (kiosk stopped)"
    )
    restore.add_argument("source", type=Path, metavar="BACKUP")
    restore.set_defaults(handler=_restore)
    decrypt = commands.add_parser(
        "backup-decrypt",
        parents=[common],
        help="a PostgreSQL backup's dump, to standard output: pipe it into pg_restore",
    )
    decrypt.add_argument("source", type=Path, metavar="BACKUP")
    decrypt.set_defaults(handler=_backup_decrypt)

    export = commands.add_parser(
        "export", parents=[common], help="write visits as FHIR R4 bundles or CSV files"
    )
    export.add_argument("--format", choices=tuple(EXPORT_FORMATS), required=True)
    _person(export, "a clinician, an administrator or a service account")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="a folder")
    export.add_argument(
        "--since", metavar="YYYY-MM-DD", help="visits started on or after this day (local time)"
    )
    export.add_argument(
        "--until", metavar="YYYY-MM-DD", help="visits started on or before this day (local time)"
    )
    export.set_defaults(handler=_export)

    drafts = commands.add_parser("drafts", help="unfinished visits")
    drafts_commands = drafts.add_subparsers(dest="drafts_command", required=True, metavar="ACTION")
    purge = drafts_commands.add_parser(
        "purge", parents=[common], help="purge drafts untouched for longer than the retention time"
    )
    purge.add_argument(
        "--older-than-hours",
        type=int,
        metavar="H",
        help="default: KIOSK_DRAFT_RETENTION_H (72)",
    )
    purge.set_defaults(handler=_drafts_purge)

    alerts = commands.add_parser("alerts", help="urgent-flag alerts: the watcher, a test message")
    alerts_commands = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    watch = alerts_commands.add_parser(
        "watch",
        parents=[common],
        help="watch for urgent flags and escalate the ones not acknowledged in time (a service)",
    )
    watch.add_argument(
        "--retry-after",
        type=float,
        default=5.0,
        metavar="S",
        help="first retry of a failed delivery after S seconds, then doubling up to 5 minutes",
    )
    watch.set_defaults(handler=_alerts_watch)
    alerts_test = alerts_commands.add_parser(
        "test",
        parents=[common],
        help="send a test message through every configured alert channel and say what happened",
    )
    alerts_test.set_defaults(handler=_alerts_test)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Handler = args.handler  # every command's parser names one: nothing falls through
    return handler(args)


def _on_records(command: Command) -> Handler:
    """A command on the records: the settings from ``--database`` and the environment; records
    that cannot be opened are one plain line and exit 1 (exit 2 when the URL itself is one the
    kiosk cannot use: a mistake in the command, not a fault of the records)."""

    @functools.wraps(command)
    def handler(args: argparse.Namespace) -> int:
        settings = Settings.load(database_url=args.database)
        try:
            return command(settings, args)
        except RecordsUnavailableError as exc:
            print(f"The records cannot be opened: {exc}", file=sys.stderr)
            return EXIT_USAGE if exc.usage else EXIT_FAILED

    return handler


def _starts_the_kiosk(command: Command) -> Handler:
    """A command that starts a window on the forms: form files with problems are listed, with
    how to check them, and exit 1. A ``--database`` URL the kiosk cannot use is refused before
    anything starts, exit 2 (a configured one shows the kiosk's safe mode, for staff to see)."""

    @functools.wraps(command)
    def handler(args: argparse.Namespace) -> int:
        if args.database is not None:
            from kiosk.storage.db import UnusableUrlError, check_url

            try:
                check_url(args.database)
            except UnusableUrlError as exc:
                print(f"The kiosk cannot start: {exc}", file=sys.stderr)
                return EXIT_USAGE
        settings = Settings.load(database_url=args.database)
        try:
            return command(settings, args)
        except FormError as exc:
            print("The kiosk cannot start: the form files have problems.", file=sys.stderr)
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print("Fix them, then check with: kiosk forms check", file=sys.stderr)
            return EXIT_FAILED

    return handler


@_starts_the_kiosk
def _run(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.app.kiosk_app import run_kiosk

    return run_kiosk(settings, windowed=args.windowed)


@_starts_the_kiosk
def _staff_console(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.app.staff_app import run_staff_console

    return run_staff_console(settings)


@_starts_the_kiosk
def _screenshots(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.app.screenshots import main as screenshots

    return screenshots(args.out)


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    import getpass

    pin = getpass.getpass("New PIN (6-12 digits): ")
    if getpass.getpass("The same PIN again: ") != pin:
        raise ValueError("the two PINs are not the same")
    return pin


class RecordsUnavailableError(Exception):
    """The database could not be opened (the message says why, without patient data);
    ``usage`` when its URL is one the kiosk cannot use at all."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def _open(settings: Settings, *, create: bool = False) -> Database:
    from kiosk.storage.db import OpenError, UnusableUrlError, open_database

    try:
        return open_database(settings.database_url, key_dir=settings.key_dir, create=create)
    except OpenError as exc:
        raise RecordsUnavailableError(str(exc), usage=isinstance(exc, UnusableUrlError)) from None


def _kept_heads(db: Database, anchors: Path | None, *, given: bool) -> tuple[list[str], str]:
    """The trail against the heads kept away from it: this device's kept head (by the start-up
    rule, where there is one to check: always for SQLite, whose head lives beside the file), the
    head this computer's consoles and watchers saw, and every head file in ``anchors``. Returns
    the problems and what was checked (for the "ok" line)."""
    from kiosk.storage import heads

    problems: list[str] = []
    checked = ["the head given"] if given else []
    with db.read() as session:
        kept = db.head_file
        if kept is not None and (db.dialect == "sqlite" or kept.exists()):
            problems += heads.kept_head_problems(
                session, kept, db.audit_key, single_writer=db.dialect == "sqlite"
            )
            checked.append(f"the head kept in {kept}")
        seen = heads.seen_head_file(db.engine.url, db.path, paths.data_dir())
        if seen.exists():
            _, found = heads.folder_problems(session, seen, db.audit_key)
            problems += found
            checked.append(f"the head seen in {seen}")
        if anchors is not None:
            if not anchors.is_dir():
                problems.append(f"--anchors: {anchors} is not a folder")
            else:
                count, found = heads.folder_problems(session, anchors, db.audit_key)
                problems += found
                checked.append(f"{count} head file(s) in {anchors}")
    return problems, f" (matches {', '.join(checked)})" if checked else ""


@_on_records
def _audit_adopt_head(settings: Settings, args: argparse.Namespace) -> int:
    """Keep the trail's current head after checking the chain (and any anchors): the way in for
    a kiosk upgraded from before heads were sealed, a new tablet on shared records, or after a
    crash between a commit and its head's save. The adoption is itself an audit event."""
    from kiosk.storage import audit, heads, repository

    db = _open(settings)
    try:
        with db.engine.connect() as connection:
            result = audit.verify(connection, db.audit_key)
        if args.anchors is not None:
            with db.read() as session:
                result.problems += heads.folder_problems(session, args.anchors, db.audit_key)[1]
        if not result.ok:
            print(f"BROKEN: {len(result.problems)} problem(s); no head was adopted")
            for problem in result.problems:
                print(f"  {problem}")
            return EXIT_FAILED
        kept = db.head_file
        assert kept is not None
        if kept.exists():  # kept aside, not lost: it may be evidence
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            kept.replace(kept.with_name(f"{kept.name}.replaced-{stamp}"))
        with db.begin() as session:
            head = repository.audit(
                session,
                actor="cli",
                device=settings.kiosk_id,
                action="audit.head_adopted",
                subject=f"after event {result.head.seq}" if result.head else "empty trail",
                now=dt.datetime.now(dt.UTC),
            )
        heads.write_head_file(kept, head, db.audit_key)  # commits never make a missing one
        try:
            adopted = heads.read_head_file(kept, db.audit_key)
        except heads.HeadFileError:
            adopted = None
    finally:
        db.dispose()
    if adopted is None or adopted.head != head:
        print(f"the head could not be written to {kept}", file=sys.stderr)
        return EXIT_FAILED
    print(f"adopted: {result.events} audit events verified; {kept} now keeps head {head}")
    return EXIT_OK


@_on_records
def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.storage import audit
    from kiosk.storage.repository import record_problems
    from kiosk.storage.schema_check import schema_problems

    try:
        anchor = audit.Head.parse(args.head) if args.head else None
    except ValueError as exc:
        print(f"--head: {exc}", file=sys.stderr)
        return EXIT_USAGE
    db = _open(settings)
    kept = ""
    try:
        schema = schema_problems(db)  # the protective triggers, as the migrations made them
        heads_found, kept = _kept_heads(db, args.anchors, given=anchor is not None)
        with db.engine.connect() as connection:
            result = audit.verify(connection, db.audit_key, anchor)
            result.problems += heads_found
            # Then the records: each visit's rows against the last digest the trail holds.
            result.problems += record_problems(connection)
    finally:
        db.dispose()
    for problem in schema:  # a dropped or disabled trigger fails the check like a broken chain
        print(f"BROKEN: {problem}")
    if schema and result.ok:
        print(f"the chain of {result.events} audit events is unbroken; its protection is not")
        return EXIT_FAILED
    if result.ok:
        head = f", head {result.head}" if result.head else ""
        checked = kept or (" (matches the head given)" if anchor else "")
        print(f"ok: {result.events} audit events, chain unbroken{checked}{head}")
        return EXIT_OK
    print(f"BROKEN: {len(result.problems)} problem(s) in {result.events} audit events")
    for problem in result.problems:
        print(f"  {problem}")
    return EXIT_FAILED


@_on_records
def _certs_init(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.documents.seal import Certificates, SealError, init_certificates

    try:
        made = init_certificates(
            Certificates(settings.key_dir),
            clinic_name=settings.clinic_name,
            kiosk_id=settings.kiosk_id,
        )
    except SealError as exc:
        print(f"not done: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"clinic root: {made.root_subject}")
    print(f"kiosk seal:  {made.seal_subject}, valid until {made.seal_not_after:%Y-%m-%d}")
    print(f"seal certificate SHA-256: {made.seal_fingerprint}")
    print(f"private keys (mode 0600) in {settings.key_dir}: keep a copy with the key backup")
    return EXIT_OK


@_on_records
def _verify_pdf(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 0 only when the seal is valid, intact, ours, covers the whole file, and the file's
    SHA-256 is a document in the records."""
    import logging
    import warnings

    from kiosk.documents.seal import Certificates, check_seal
    from kiosk.storage import repository

    try:
        with args.pdf.open("rb") as handle:  # read to the limit: a pipe or device has no size
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as exc:
        print(f"NOT VALID: {args.pdf} cannot be read ({exc.strerror})")
        return EXIT_FAILED
    if len(data) > MAX_PDF_BYTES:
        print(
            f"{args.pdf.name} is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB, far larger "
            "than any consent PDF: it was not checked",
            file=sys.stderr,
        )
        return EXIT_USAGE
    # pyHanko logs (with tracebacks) what it finds wrong in a damaged file, and its import warns
    # about DSA: the reasons below say it plainly, so standard error holds nothing of theirs.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="pyhanko")
        result = check_seal(data, Certificates(settings.key_dir))
    found = None
    try:
        db = _open(settings)
    except RecordsUnavailableError as exc:
        if exc.usage:
            raise
        result.reasons.append(f"the records cannot be opened to compare: {exc}")
    else:
        try:
            with db.begin() as session:
                found = repository.find_document(session, result.sha256)
        finally:
            db.dispose()
        if found is None:
            result.reasons.append(
                "no document with this file's fingerprint is in the records: it is not a "
                "consent this clinic stored, or it was changed"
            )
    if result.reasons:
        print(f"NOT VALID: {args.pdf.name}")
        for reason in result.reasons:
            print(f"  - {reason}")
        print(f"  SHA-256 {result.sha256}")
        return EXIT_FAILED
    assert found is not None
    when = f" at {result.signed_at:%Y-%m-%d %H:%M:%S %Z}" if result.signed_at else ""
    print(f"VALID: {args.pdf.name}")
    print(f"  sealed by {result.signer}{when}; the seal covers the whole file, unchanged")
    print(f"  matches {found.document_number} ({found.kind}) stored {found.created_at:%Y-%m-%d}")
    print(f"  SHA-256 {result.sha256}")
    return EXIT_OK


@_on_records
def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.storage import repository
    from kiosk.storage.backup import BackupError, backup

    destination: Path = args.destination
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"no backup made: the folder {_shown_path(destination.parent)} cannot be made "
            f"({exc.strerror}); give a file in a folder that exists or can be made",
            file=sys.stderr,
        )
        return EXIT_USAGE
    db = _open(settings)
    try:
        person = _named_person(settings, db, args, "staff.backup", BACKUP_ROLES)
        if person is None:
            return EXIT_USAGE if not args.staff else EXIT_FAILED
        result = backup(db, args.destination)
        # The copy holds the trail up to its head; this event, after it, says who took it.
        with db.begin() as session:
            repository.audit(
                session,
                actor=f"staff:{person}",
                device=settings.kiosk_id,
                action="backup.written",
                subject=f"up to event {result.head.seq}" if result.head else "empty trail",
                now=dt.datetime.now(dt.UTC),
            )
    except BackupError as exc:
        print(f"no backup made: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        db.dispose()
    print(f"backup: {result.path} ({result.size} bytes, {result.audit_events} audit events)")
    if result.head:
        print(f"audit head: {result.head}")
    print(f"it is encrypted with the keys in {settings.key_dir}: keep a copy of that folder")
    if db.path is None:
        print(f"restore it with: kiosk backup-decrypt {result.path} | pg_restore --dbname URL")
    return EXIT_OK


@_on_records
def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.app.instance import DataFolderError, acquire_single_instance
    from kiosk.storage.backup import BackupError, restore

    try:
        lock = acquire_single_instance(paths.data_dir())
    except DataFolderError as exc:
        print(f"not restored: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if lock is None:
        print("Stop the kiosk on this computer first, then restore.", file=sys.stderr)
        return EXIT_FAILED
    try:
        aside = restore(args.source, settings.database_url, settings.key_dir)
    except BackupError as exc:
        print(f"not restored: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lock.unlock()
    print(f"restored from {args.source}")
    if aside is not None:
        print(f"the records as they were before are kept in {aside}")
    return EXIT_OK


@_on_records
def _backup_decrypt(settings: Settings, args: argparse.Namespace) -> int:
    """The plaintext dump goes to a pipe only (storage.backup_crypto): never to a terminal, and
    never to a file this command would leave behind."""
    from kiosk.storage.backup_crypto import BackupFileError, decrypt_stream
    from kiosk.storage.keys import AUDIT_KEY, KeyStore, KeyStoreError

    if sys.stdout.isatty():
        print(
            "backup-decrypt writes the dump to standard output: pipe it into pg_restore, e.g. "
            "kiosk backup-decrypt BACKUP | pg_restore --no-owner --dbname URL",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        key = KeyStore(settings.key_dir).read(AUDIT_KEY)
        with args.source.open("rb") as source:
            decrypt_stream(source, sys.stdout.buffer, key)
        sys.stdout.buffer.flush()
    except (KeyStoreError, BackupFileError) as exc:
        print(f"not decrypted: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"not decrypted: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


@_on_records
def _drafts_purge(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.storage import repository

    hours = settings.draft_retention_h if args.older_than_hours is None else args.older_than_hours
    if not 0 < hours <= MAX_RETENTION_HOURS:
        print(
            f"--older-than-hours must be more than 0 and at most {MAX_RETENTION_HOURS} "
            "(a hundred years)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    now = dt.datetime.now(dt.UTC)
    db = _open(settings)
    try:
        with db.begin() as session:
            result = repository.purge_abandoned_drafts(
                session,
                idle_since=now - dt.timedelta(hours=hours),
                device=settings.kiosk_id,
                now=now,
            )
    finally:
        db.dispose()
    print(f"purged {result.purged} unfinished visit(s) untouched for more than {hours} hours")
    if result.kept:
        print(
            f"kept {len(result.kept)} unfinished visit(s) whole, because a flag waits for a "
            f"clinician: {', '.join(result.kept)} (acknowledge the flags in the staff console; "
            "the next purge then removes them)"
        )
    return EXIT_OK


@_on_records
def _export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the visits started in the period as files in ``--out``; one audit event, appended in
    the transaction that reads them. Files are named by document number only (never patient
    data), readable by their owner only, and appear only once the audit event is committed."""
    import shutil
    import tempfile

    from kiosk.storage import repository
    from kiosk.storage.export_data import iter_visits

    export = EXPORT_FORMATS[args.format]
    try:
        since = _export_day(args.since, "--since")
        until = _export_day(args.until, "--until", next_day=True)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if since is not None and until is not None and since >= until:
        print("--since must be the same day as --until or earlier", file=sys.stderr)
        return EXIT_USAGE
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(f"{out} is a file: --out needs a folder (new or existing)", file=sys.stderr)
        return EXIT_USAGE
    try:
        packet = load_packet(settings.forms_dir, settings.text_values())
    except FormError as exc:
        print("Nothing was exported: the form files have problems.", file=sys.stderr)
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_FAILED
    db = _open(settings)
    try:
        person = _named_person(settings, db, args, "staff.export", EXPORT_ROLES)
        if person is None:
            return EXIT_USAGE if not args.staff else EXIT_FAILED
        try:
            out.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Written aside first, moved into place only after the audit event is committed: no
            # export file exists without its event.
            staging = Path(tempfile.mkdtemp(prefix=".kiosk-export-", dir=out))
        except OSError as exc:
            print(
                f"Nothing was exported: the folder {out} cannot be used ({exc.strerror}).",
                file=sys.stderr,
            )
            return EXIT_FAILED
        now = dt.datetime.now(dt.UTC)
        names: list[str] = []
        count = 0
        try:
            # Read on a plain connection: on SQLite a write transaction would hold the tablets'
            # write lock for the whole export (their saves would wait, then fail).
            with db.read() as session:
                visits = iter_visits(session, packet, since, until, include_pdf=export.include_pdf)

                def counted() -> Iterator[ExportedVisit]:  # the summary and the audit say how many
                    nonlocal count
                    for visit in visits:
                        count += 1
                        yield visit

                for name, data in export.write(counted(), now):
                    _write_export(staging / name, data)
                    names.append(name)
            with db.begin() as session:
                repository.audit(
                    session,
                    actor=f"staff:{person}",
                    device=settings.kiosk_id,
                    action="export.written",
                    subject=f"{export.name}:{count} visits",
                    now=now,
                )
            for name in names:
                os.replace(staging / name, out / name)
        except ExportError as exc:
            print(f"Nothing was exported: {exc}. Please report this.", file=sys.stderr)
            return EXIT_FAILED
        except OSError as exc:
            print(f"The export could not be written to {out} ({exc.strerror}).", file=sys.stderr)
            return EXIT_FAILED
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        db.dispose()
    period = f" started {args.since or 'any time'} to {args.until or 'now'}"
    print(f"exported {count} visit(s){period} as {export.files_are}: {len(names)} file(s) in {out}")
    return EXIT_OK


def _export_day(text: str | None, flag: str, *, next_day: bool = False) -> dt.datetime | None:
    """Local midnight at the start of the day (of the next day for ``--until``, which includes
    its whole day)."""
    import re

    if text is None:
        return None
    try:
        # Only YYYY-MM-DD: Python would also take 20260131 or week dates like 2026-W05-6.
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag} needs a date like 2026-01-31, not {text!r}") from None
    if next_day:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time()).astimezone()


def _write_export(path: Path, data: bytes) -> None:
    """A new file only its owner can read: exports hold patient data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _log_to_stderr() -> None:
    """The kiosk's log lines (from INFO) and other libraries' warnings on standard error; under
    systemd (JOURNAL_STREAM set) the journal adds the time itself."""
    import logging

    timed = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    logging.basicConfig(level=logging.WARNING, format=f"{timed}%(levelname)s %(message)s")
    logging.getLogger("kiosk").setLevel(logging.INFO)


@_on_records
def _alerts_watch(settings: Settings, args: argparse.Namespace) -> int:
    """The urgent-flag watcher on its own, until SIGTERM or SIGINT (then exit 0)."""
    import logging
    import signal
    import threading
    from dataclasses import replace

    from kiosk.app.alert_delivery import NO_CHANNEL
    from kiosk.app.alerts import AlertConfig, AlertWatcher, watch

    if not args.retry_after > 0:
        print("--retry-after must be more than 0 seconds", file=sys.stderr)
        return EXIT_USAGE
    _log_to_stderr()
    log = logging.getLogger("kiosk.alerts")
    config = replace(
        AlertConfig.from_settings(settings, settings.kiosk_id), retry_first_s=args.retry_after
    )
    db = _open(settings)
    stopping = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stopping.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    watcher = AlertWatcher(db.sessions, config)
    try:
        log.info(
            "watching the %s records for urgent flags as %s; escalating after %s s",
            db.dialect,
            config.device,
            config.escalate_after_s,
        )
        if not watcher.can_escalate:
            log.warning("%s: urgent flags are logged here, and escalated by none", NO_CHANNEL)
        watch(watcher, stopping)
        log.info("stopping")
    finally:
        watcher.stop(timeout=15.0)  # an attempt under way is finished and recorded
        db.dispose()
        for number, handler in previous.items():
            signal.signal(number, handler)
    return EXIT_OK


@_on_records
def _alerts_test(settings: Settings, args: argparse.Namespace) -> int:
    """A test message through every configured channel; exit 0 only when each delivered it."""
    from kiosk.app.alert_delivery import NO_CHANNEL, configured_channels, send, test_message
    from kiosk.storage import repository

    channels = configured_channels(settings.alert_webhook_url, settings.alert_command)
    db = _open(settings)
    try:
        now = dt.datetime.now().astimezone()
        results = []
        if channels:
            message = test_message(clinic=settings.clinic_name, device=settings.kiosk_id, now=now)
            results = send(channels, message)
        else:
            print(NO_CHANNEL)
        for result in results:
            print(result)
        delivered = sum(result.delivered for result in results)
        recorded = repository.record_event(
            db.sessions,
            actor="cli",
            device=settings.kiosk_id,
            action="alert.test",
            subject=f"{delivered} of {len(results)} channels delivered",
            now=now,
        )
    finally:
        db.dispose()
    if not recorded:
        print("the test could not be recorded in the audit trail", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if results and delivered == len(results) else EXIT_FAILED


@_on_records
def _staff_user(settings: Settings, args: argparse.Namespace) -> int:
    from kiosk.storage import repository, staff

    db = _open(settings, create=True)
    now = dt.datetime.now(dt.UTC)
    try:
        with db.begin() as session:
            if args.staff_command == "add":
                staff.add_staff(
                    session,
                    args.staff_id,
                    name=args.name,
                    role=args.role,
                    pin=_read_pin(args.pin_stdin),
                    now=now,
                )
            elif args.staff_command == "disable":
                staff.set_active(session, args.staff_id, active=False)
            else:
                staff.reset_pin(session, args.staff_id, pin=_read_pin(args.pin_stdin))
            repository.audit(
                session,
                actor="cli",
                device=settings.kiosk_id,
                action=f"staff.{args.staff_command.replace('-', '_')}",
                subject=args.staff_id,
                now=now,
            )
    except (staff.StaffError, ValueError) as exc:
        print(f"not done: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.dispose()
    done = {"add": "added", "disable": "disabled", "reset-pin": "has a new PIN"}
    print(f"staff user '{args.staff_id}' {done[args.staff_command]}")
    return EXIT_OK


def _forms_check(args: argparse.Namespace) -> int:
    targets: list[Path] = args.paths or [paths.FORMS_DIR]
    for target in targets:
        try:
            target.stat()
        except FileNotFoundError:
            pass  # reported as a problem below, with the other problems
        except (OSError, ValueError) as exc:  # a name too long, a NUL, a file used as a folder
            print(f"{_shown_path(target)}: cannot be read ({_reason(exc)})", file=sys.stderr)
            return EXIT_USAGE
    problems = check_paths(targets, Settings.load().text_values())
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return EXIT_FAILED
    print(f"ok: no problems in {', '.join(str(t) for t in targets)}")
    return EXIT_OK


def _find_form(name: str) -> Form:
    path = Path(name)
    shown = _shown_path(path)
    is_file_name = path.suffix in (".yaml", ".yml")
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL, a file used as a folder
        if is_file_name:
            raise KeyError(f"{shown} cannot be read ({_reason(exc)})") from None
        is_dir, exists = False, False  # no file by that name: perhaps a form id
    if is_dir:
        raise KeyError(f"{shown} is a folder: give a form id (like phq9) or a form file")
    if is_file_name or exists:
        document = load_document(path, Settings.load().text_values())
        if not isinstance(document, Form):
            raise KeyError(f"{name} is a consent, not a questionnaire: it has no scores")
        return document
    settings = Settings.load()
    packet = load_packet(settings.forms_dir, settings.text_values())
    for form in packet.forms:
        if form.id == name:
            return form
    known = ", ".join(form.id for form in packet.forms)
    raise KeyError(f"no form called '{shown}' (forms: {known})")


class _AnswersFileError(ValueError):
    """An answers file that cannot be read as answers; the message says why, plainly."""


def _shown_id(item_id: str) -> str:
    """An id from a file as it may be printed: no line breaks or terminal escapes of its own
    (they could forge or hide lines of a report), and not a screenful."""
    text = item_id if item_id.isprintable() else ascii(item_id)[1:-1]
    return text if len(text) <= 80 else text[:79] + "…"


def _shown_path(path: Path) -> str:
    """A path from the command line as it may be printed (see :func:`_shown_id`)."""
    return _shown_id(str(path))


def _reason(exc: Exception) -> str:
    """Why a file could not be used, in the system's words, never a traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return "the name holds a character no file name can" if isinstance(exc, ValueError) else ""


def _read_answers_file(answers_file: str) -> dict[str, object]:
    """The JSON object of answers in ``answers_file`` (``-`` = standard input), for
    ``forms score`` and ``demo``.

    Raises:
        _AnswersFileError: it cannot be read, is not JSON, is not an object, or gives an item
            twice.
    """
    duplicates: list[str] = []

    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result: dict[str, object] = {}
        for key, value in pairs:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    where = "the answers" if answers_file == "-" else f"the answers file {answers_file}"
    try:
        text = sys.stdin.read() if answers_file == "-" else Path(answers_file).read_bytes().decode()
    except FileNotFoundError:
        raise _AnswersFileError(f"cannot read {where}: there is no such file") from None
    except IsADirectoryError:
        raise _AnswersFileError(f"cannot read {where}: it is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise _AnswersFileError(
            f"cannot read {where}: it is not UTF-8 text (see byte {exc.start + 1})"
        ) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL character in the file name
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise _AnswersFileError(f"cannot read {where}: {reason}") from None
    try:
        # A byte order mark (as Windows Notepad writes) is not part of the answers.
        raw = json.loads(text.removeprefix("\ufeff"), object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise _AnswersFileError(
            f"the answers are not valid JSON (line {exc.lineno}): {exc.msg}"
        ) from None
    except RecursionError:
        raise _AnswersFileError(
            "the answers are not valid: lists or objects nested too deeply"
        ) from None
    except ValueError:  # Python refuses to read integers of more than 4,300 digits
        raise _AnswersFileError("the answers are not valid: a number has too many digits") from None
    if not isinstance(raw, dict):
        raise _AnswersFileError('the answers must be a JSON object like {"phq9_1": 2}')
    if duplicates:
        twice = " ".join(_shown_id(key) for key in dict.fromkeys(duplicates))
        raise _AnswersFileError(
            f"the answers give these more than once, so they are ambiguous: {twice}"
        )
    return raw


def _forms_score(args: argparse.Namespace) -> int:
    """Score an answers file; anything wrong with it is one plain message and exit 2."""
    form_name: str = args.form
    answers_file: str = args.answers

    def refuse(message: str) -> int:
        print(message, file=sys.stderr)
        return EXIT_USAGE

    try:
        form = _find_form(form_name)
    except FormError as exc:
        return refuse(str(exc))
    except KeyError as exc:
        return refuse(exc.args[0])
    try:
        raw = _read_answers_file(answers_file)
    except _AnswersFileError as exc:
        return refuse(str(exc))
    try:
        report = score_raw_answers(form, raw, dt.date.today())
    except UnscorableAnswersError as exc:
        if exc.missing:
            print(f"missing required answers: {' '.join(exc.missing)}", file=sys.stderr)
        for item_id, problem in exc.invalid.items():
            print(f"answer not allowed: {_shown_id(item_id)} ({problem})", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(report.as_json(), ensure_ascii=False))
    return EXIT_OK


@_starts_the_kiosk
def _demo(settings: Settings, args: argparse.Namespace) -> int:
    out: Path = args.out
    language: str = args.language
    screenshots: Path | None = args.screenshots
    database: str | None = args.database
    answers_file: str | None = args.answers
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from dataclasses import replace

    from kiosk.app.demo import (
        DemoAnswersError,
        DemoPatient,
        ensure_app,
        override_answers,
        write_screenshot,
    )
    from kiosk.app.kiosk_app import Kiosk, open_kiosk
    from kiosk.storage import repository
    from kiosk.ui.theme import apply_theme

    answers = None
    if answers_file is not None:  # checked before anything is started, replaced or written
        try:
            packet = load_packet(settings.forms_dir, settings.text_values())
            answers = override_answers(packet, _read_answers_file(answers_file), dt.date.today())
        except _AnswersFileError as exc:
            print(f"{exc}; nothing was run", file=sys.stderr)
            return EXIT_USAGE
        except DemoAnswersError as exc:
            where = "the answers" if answers_file == "-" else f"the answers file {answers_file}"
            print(f"{where} cannot be used; nothing was run:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            print(
                "Give each answer under its question's id, as the question takes it, "
                'e.g. {"phq9_9": 2}.',
                file=sys.stderr,
            )
            return EXIT_USAGE

    try:  # after the answers (a refused file writes nothing): a file where the folder should be
        out.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        why = "it is a file" if isinstance(exc, FileExistsError) else _reason(exc)
        print(f"--out needs a folder: {_shown_path(out)} cannot be one ({why})", file=sys.stderr)
        return EXIT_USAGE

    from kiosk.private_files import private_folder

    try:  # the demo's records and consent copy: for the owner's eyes only, like the real ones
        private_folder(out)
    except OSError as exc:
        print(f"--out {out} cannot be made private ({type(exc).__name__})", file=sys.stderr)
        return EXIT_FAILED
    database_file = out / "kiosk-demo.sqlite3"
    if database is None and database_file.exists():
        # The synthetic patient's consent from the last run would still be current, and a
        # returning patient is not asked to sign again: each demo starts from new records.
        for suffix in ("", "-wal", "-shm", ".audit-head"):
            Path(f"{database_file}{suffix}").unlink(missing_ok=True)
        print(f"replaced the earlier demo database in {out}")
    settings = replace(
        settings,
        database_url=database or f"sqlite:///{database_file.resolve()}",
        output_dir=out,
    )
    app = ensure_app()
    apply_theme(app)
    kiosk = open_kiosk(settings)
    if not isinstance(kiosk, Kiosk):
        print("The records failed their start-up check:", file=sys.stderr)
        for problem in kiosk.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_FAILED
    kiosk.window.show()
    counter = iter(range(1000))

    def shoot(screen: object) -> None:
        if screenshots is not None:
            name = getattr(screen, "objectName", lambda: "screen")()
            write_screenshot(kiosk.window, screenshots / f"{next(counter):02d}-{name}.png")

    patient = DemoPatient(kiosk, language=language, on_screen=shoot)
    if answers is not None:
        patient.answers = answers
    try:
        finished = patient.run()
    except RuntimeError as exc:  # a screen the demo patient does not know, or no end
        print(f"the demo visit did not finish: {exc}", file=sys.stderr)
        kiosk.shutdown()
        return EXIT_FAILED
    with kiosk.db.read() as session:
        flags = repository.load_flags(session, finished.visit_id)
    print(f"database: {database or database_file.resolve()}")
    print(f"consent pdf: {finished.pdf_path}")
    print(f"document: {finished.document_number} sha256 {finished.pdf_sha256}")
    print(f"key folder: {settings.key_dir} (the database is encrypted with its database.key)")
    print(f"screens: {patient.screens}, taps: {patient.taps}")
    print(f"flags: {', '.join(flags) or 'none'}")
    print(f"notices shown to the patient: {', '.join(patient.notices) or 'none'}")
    kiosk.shutdown()
    for written in out.glob(f"{database_file.name}*"):  # SQLite made them with the umask's mode
        written.chmod(0o600)
    return EXIT_OK
