"""Every ``kiosk`` command names its own handler: none falls through to another (``demo`` was
where an unhandled command used to end up)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from kiosk import cli

Words = tuple[str, ...]

# Each command of the contract (DESIGN §7) as it is typed, with the handler it must reach.
COMMANDS: dict[Words, tuple[list[str], str]] = {
    ("run",): (["run", "--windowed"], "_run"),
    ("staff",): (["staff"], "_staff_console"),
    ("demo",): (["demo", "--out", "demo-out"], "_demo"),
    ("screenshots",): (["screenshots"], "_screenshots"),
    ("forms", "check"): (["forms", "check"], "_forms_check"),
    ("forms", "score"): (["forms", "score", "phq9", "--answers", "-"], "_forms_score"),
    ("staff-user", "add"): (["staff-user", "add", "maria.lopez", "--name", "M"], "_staff_user"),
    ("staff-user", "disable"): (["staff-user", "disable", "maria.lopez"], "_staff_user"),
    ("staff-user", "reset-pin"): (["staff-user", "reset-pin", "maria.lopez"], "_staff_user"),
    ("verify",): (["verify", "consent.pdf"], "_verify_pdf"),
    ("certs", "init"): (["certs", "init"], "_certs_init"),
    ("audit", "verify"): (["audit", "verify"], "_audit_verify"),
    ("audit", "adopt-head"): (["audit", "adopt-head"], "_audit_adopt_head"),
    ("backup",): (["backup", "copy.sqlite3"], "_backup"),
    ("restore",): (["restore", "copy.sqlite3"], "_restore"),
    ("backup-decrypt",): (["backup-decrypt", "copy.pgdump"], "_backup_decrypt"),
    ("export",): (["export", "--format", "csv", "--out", "exports"], "_export"),
    ("drafts", "purge"): (["drafts", "purge"], "_drafts_purge"),
    ("alerts", "watch"): (["alerts", "watch"], "_alerts_watch"),
    ("alerts", "test"): (["alerts", "test"], "_alerts_test"),
}


def _commands(
    parser: argparse.ArgumentParser, path: Words = ()
) -> Iterator[tuple[Words, argparse.ArgumentParser]]:
    """Every command that can be run (the parsers with no subcommands below them)."""
    groups = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not groups:
        yield path, parser
    for group in groups:
        for name, subparser in group.choices.items():
            yield from _commands(subparser, (*path, name))


def test_the_commands_are_the_contract() -> None:
    assert sorted(path for path, _ in _commands(cli._parser())) == sorted(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_each_command_parser_names_its_handler(path: Words) -> None:
    parsers = dict(_commands(cli._parser()))
    handler = parsers[path].get_default("handler")
    assert callable(handler), f"kiosk {' '.join(path)} names no handler"
    assert handler.__name__ == COMMANDS[path][1]
    assert (handler.__name__ == "_demo") == (path == ("demo",))


def test_main_runs_the_handler_the_command_names_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[str] = []

    def stand_in(name: str) -> cli.Handler:
        def handler(args: argparse.Namespace) -> int:
            ran.append(name)
            return 7  # not an exit code any real command gives: main must return it as is

        return handler

    for name in {handler for _, handler in COMMANDS.values()}:
        monkeypatch.setattr(cli, name, stand_in(name))
    for argv, expected in COMMANDS.values():
        ran.clear()
        assert cli.main(argv) == 7, argv
        assert ran == [expected], argv
