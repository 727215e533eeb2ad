"""Delivering an urgent-flag alert to the clinic's pager or SMS gateway (issue 16): the message,
and the two channels, an HTTP POST of JSON and a command reading the JSON on standard input.

No Qt, no database. The message carries the kind of flag, the tablet, the time, the document
number and a hint for the console: never the patient's name, birth date or answers. What is
printed, logged or stored about a delivery names the channel with its secrets hidden (a URL's
user, password and query string; a command's arguments) and says what happened as an HTTP
status, an exit status or an exception type: never a response body or a command's output.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import shlex
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kiosk.storage.alerts import UrgentFlag

KIND = "urgent_finding"
WEBHOOK_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 10.0
NO_CHANNEL = "no alert channel is configured: set KIOSK_ALERT_WEBHOOK_URL or KIOSK_ALERT_COMMAND"


def _local_iso(moment: dt.datetime) -> str:
    """ISO 8601 in this computer's time zone, with its offset, to the second."""
    return moment.astimezone().isoformat(timespec="seconds")


def _text(rule_id: str, tablet: str, raised_at: str, document: str, *, retracted: bool) -> str:
    """One line for a pager or an SMS: what, where, when, and where to look."""
    changed = " (answer changed since)" if retracted else ""
    return (
        f"Urgent finding {rule_id}{changed} on {tablet} at {raised_at} not yet acknowledged: "
        f"open the staff console and search {document}"
    )


def escalation_message(flag: UrgentFlag, *, clinic: str) -> dict[str, object]:
    """The JSON sent when ``flag`` was not acknowledged in time."""
    raised_at = _local_iso(flag.raised_at)
    retracted = flag.retracted_at is not None
    return {
        "kind": KIND,
        "flag": flag.rule_id,
        "form": flag.form_id,
        "tablet": flag.kiosk_id,
        "raised_at": raised_at,
        "document": flag.document_number,
        "retracted": retracted,
        "console_hint": f"Open the staff console and search {flag.document_number}",
        "clinic": clinic,
        "text": _text(
            flag.rule_id, flag.kiosk_id, raised_at, flag.document_number, retracted=retracted
        ),
        "test": False,
    }


def test_message(*, clinic: str, device: str, now: dt.datetime) -> dict[str, object]:
    """The same shape as an escalation, marked as a test and naming no flag or visit."""
    sent_at = _local_iso(now)
    return {
        "kind": KIND,
        "flag": "test",
        "form": "",
        "tablet": device,
        "raised_at": sent_at,
        "document": "",
        "retracted": False,
        "console_hint": "A test from 'kiosk alerts test': no patient is waiting.",
        "clinic": clinic,
        "text": f"TEST from {device} at {sent_at}: the kiosk's urgent alerts reach this channel.",
        "test": True,
    }


def encode(message: dict[str, object]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Delivery:
    """What happened on one channel: ``detail`` is a status or an exception type, nothing more."""

    channel: str  # the channel as it may be shown: "webhook https://***@pager.example/hook"
    delivered: bool
    detail: str  # "HTTP 200", "exit 3", "timed out after 5 s", "ConnectionRefusedError"

    def __str__(self) -> str:
        return f"{self.channel}: {'delivered' if self.delivered else 'failed'} ({self.detail})"


class Channel(Protocol):
    """A way of getting a message to a person."""

    @property
    def shown(self) -> str:
        """The channel as it may be printed and logged: secrets hidden."""

    def send(self, body: bytes) -> Delivery:
        """Send ``body`` (the JSON message); never raises."""


def redact_url(url: str) -> str:
    """``url`` with its user, password and query string (where tokens live) hidden."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(a URL that cannot be read)"
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    userinfo = "***@" if "@" in parts.netloc else ""
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{userinfo}{host}{port}{parts.path}{query}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not a delivery: urllib would follow it with a GET that has no message."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class WebhookChannel:
    """An HTTP POST of the JSON; any 2xx answer is a delivery. A user and password in the URL
    are sent as HTTP basic authentication."""

    def __init__(self, url: str, timeout: float = WEBHOOK_TIMEOUT_S) -> None:
        self._url = url
        self._timeout = timeout
        self.shown = f"webhook {redact_url(url)}"

    def send(self, body: bytes) -> Delivery:
        try:
            request = self._request(body)
        except ValueError as exc:
            return Delivery(self.shown, delivered=False, detail=str(exc))
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=self._timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except TimeoutError:
            return Delivery(self.shown, False, f"timed out after {self._timeout:g} s")
        except urllib.error.URLError as exc:
            reason = exc.reason
            name = type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
            return Delivery(self.shown, False, name)
        except (OSError, ValueError, http.client.HTTPException) as exc:  # a hang-up mid-answer
            return Delivery(self.shown, False, type(exc).__name__)
        return Delivery(self.shown, 200 <= status < 300, f"HTTP {status}")

    def _request(self, body: bytes) -> urllib.request.Request:
        try:
            parts = urllib.parse.urlsplit(self._url)
            _ = parts.port  # a port that is not a number is refused here, not mid-request
        except ValueError:
            raise ValueError("the URL cannot be read") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not an http:// or https:// URL")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "kiosk-alerts"}
        netloc = parts.netloc.rpartition("@")[2]
        if parts.username is not None or parts.password is not None:
            user = urllib.parse.unquote(parts.username or "")
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        # The scheme was checked above: http or https only.
        return urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310


class CommandChannel:
    """A command (split like a shell would, run without one) with the JSON on its standard input;
    exit status 0 is a delivery. Its output is not read back: it could hold anything."""

    def __init__(self, command: str, timeout: float = COMMAND_TIMEOUT_S) -> None:
        self._timeout = timeout
        try:
            self._argv = shlex.split(command)
        except ValueError:
            self._argv = []
        program = self._argv[0] if self._argv else "(cannot be read)"
        # Arguments are hidden: they may carry a gateway's token.
        self.shown = f"command {program}{' …' if len(self._argv) > 1 else ''}"

    def send(self, body: bytes) -> Delivery:
        if not self._argv:
            return Delivery(self.shown, False, "KIOSK_ALERT_COMMAND cannot be split into words")
        try:
            done = subprocess.run(  # the clinic's own command, run without a shell
                self._argv,
                input=body,
                env=command_environment(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=self._timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Delivery(self.shown, False, f"timed out after {self._timeout:g} s")
        except FileNotFoundError:
            return Delivery(self.shown, False, "no such program")
        except PermissionError:
            return Delivery(self.shown, False, "not allowed to run it")
        except OSError as exc:
            return Delivery(self.shown, False, type(exc).__name__)
        return Delivery(self.shown, done.returncode == 0, f"exit {done.returncode}")


_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
"""The only variables the alert command inherits: never KIOSK_DATABASE_URL (its password) or
any other KIOSK_* setting; what a pager script needs it takes from its own configuration."""


def command_environment() -> dict[str, str]:
    return {name: os.environ[name] for name in _PASSED_ON if name in os.environ}


def configured_channels(webhook_url: str, command: str) -> list[Channel]:
    """The channels the settings name: a webhook, a command, both or none."""
    channels: list[Channel] = []
    if webhook_url:
        channels.append(WebhookChannel(webhook_url))
    if command:
        channels.append(CommandChannel(command))
    return channels


def send(channels: Sequence[Channel], message: dict[str, object]) -> list[Delivery]:
    """``message`` through every channel, one after the other; what happened on each."""
    body = encode(message)
    return [channel.send(body) for channel in channels]
