"""The queue: today's visits (or a search), their status and red-flag badges, refreshed live."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.console import STATUS_LABELS, QueueEntry, QueueStatus, SignatureCount
from kiosk.domain.model import Severity
from kiosk.ui.screens.base import label
from kiosk.ui.staff.login import push_button
from kiosk.ui.staff.style import SEVERITY_COLOURS, STATUS_COLOURS

COLUMNS = ("Started", "Patient", "Date of birth", "Status", "Flags", "Kiosk", "Document")
_SEVERITY_WORDS = ((Severity.URGENT, "urgent"), (Severity.REVIEW, "review"))


@dataclass(frozen=True)
class SearchRequest:
    """What staff asked for: a name start, a date of birth, and a range of visit days."""

    name: str
    birth_date: str  # YYYY-MM-DD or ""
    first_day: dt.date
    last_day: dt.date  # inclusive


def flag_badge(entry: QueueEntry) -> tuple[str, Severity | None]:
    """ "2 urgent · 1 review" for the open flags, and the most serious open severity."""
    parts = []
    worst: Severity | None = None
    for severity, word in _SEVERITY_WORDS:
        count = entry.open_count(severity)
        if count:
            parts.append(f"⚠ {count} {word}")
            worst = worst or severity
    acknowledged = sum(1 for f in entry.flags if f.acknowledged_at is not None)
    if acknowledged:
        parts.append(f"{acknowledged} seen")
    if not parts and entry.flags:
        parts.append(f"{len(entry.flags)} info")
    return " · ".join(parts), worst


class QueueView(QWidget):
    """Search bar, the visits table, a line of counts and the signatures per consent version."""

    search_requested = Signal(object)  # SearchRequest
    today_requested = Signal()
    visit_opened = Signal(str)  # visit id

    def __init__(self, today: dt.date) -> None:
        super().__init__()
        self.setObjectName("queueView")
        self.entries: list[QueueEntry] = []
        self.today = today  # visits of today show their time only
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.name = QLineEdit()
        self.name.setObjectName("searchName")
        self.name.setAccessibleName("Search by name")
        self.name.setPlaceholderText("Name (any case, accents optional)")
        self.birth_date = QLineEdit()
        self.birth_date.setObjectName("searchBirthDate")
        self.birth_date.setAccessibleName("Date of birth")
        self.birth_date.setPlaceholderText("Date of birth YYYY-MM-DD")
        self.birth_date.setMaximumWidth(220)
        self.first_day = self._date_edit("searchFrom", "From", today)
        self.last_day = self._date_edit("searchTo", "To", today)
        self.search_button = push_button("Search", "searchButton", primary=True)
        self.today_button = push_button("Today", "todayButton")
        for widget in (self.name, self.birth_date):
            widget.returnPressed.connect(self._search)
        self.search_button.clicked.connect(self._search)
        self.today_button.clicked.connect(self.today_requested)
        bar.addWidget(self.name, 3)
        bar.addWidget(self.birth_date, 2)
        bar.addWidget(QLabel("From"))
        bar.addWidget(self.first_day)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.last_day)
        bar.addWidget(self.search_button)
        bar.addWidget(self.today_button)
        layout.addLayout(bar)

        self.heading = label("", "sectionTitle")
        self.heading.setObjectName("queueHeading")
        self.message = label("", "errorText")
        self.message.setVisible(False)
        layout.addWidget(self.heading)
        layout.addWidget(self.message)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("queueTable")
        self.table.setAccessibleName("Visits")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(False)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(38)
        self.table.cellDoubleClicked.connect(lambda row, _column: self._open_row(row))
        self.table.itemActivated.connect(lambda item: self._open_row(item.row()))
        layout.addWidget(self.table, 1)

        footer = QHBoxLayout()
        self.counts = label("", "muted")
        self.counts.setObjectName("signatureCounts")
        self.open_button = push_button("Open visit", "openVisit", primary=True)
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))
        footer.addWidget(self.counts, 1)
        footer.addWidget(self.open_button)
        layout.addLayout(footer)

    @staticmethod
    def _date_edit(name: str, accessible: str, day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setObjectName(name)
        edit.setAccessibleName(accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _search(self) -> None:
        birth_date = self.birth_date.text().strip()
        if birth_date:
            try:
                dt.date.fromisoformat(birth_date)
            except ValueError:
                self.show_message(
                    "Type the date of birth as year-month-day, for example 1961-03-05."
                )
                return
        first, last = self.first_day.date().toPython(), self.last_day.date().toPython()
        assert isinstance(first, dt.date) and isinstance(last, dt.date)
        if last < first:
            self.show_message("The 'to' day is before the 'from' day. Please swap them.")
            return
        self.show_message("")
        self.search_requested.emit(SearchRequest(self.name.text().strip(), birth_date, first, last))

    def show_search(self, request: SearchRequest) -> None:
        """Fill the search bar with a search made earlier (back from a visit)."""
        self.name.setText(request.name)
        self.birth_date.setText(request.birth_date)
        for edit, day in ((self.first_day, request.first_day), (self.last_day, request.last_day)):
            edit.setDate(QDate(day.year, day.month, day.day))

    def reset_search(self, today: dt.date) -> None:
        self.today = today
        self.name.clear()
        self.birth_date.clear()
        self.first_day.setDate(QDate(today.year, today.month, today.day))
        self.last_day.setDate(QDate(today.year, today.month, today.day))
        self.show_message("")

    def show_message(self, message: str) -> None:
        self.message.setText(message)
        self.message.setVisible(bool(message))

    def show_entries(self, heading: str, entries: Sequence[QueueEntry], tz: dt.tzinfo) -> None:
        """Fill the table, keeping the selected visit selected across live refreshes."""
        selected = self.selected_visit()
        self.entries = list(entries)
        statuses = [e.status for e in self.entries]
        summary = [f"{len(self.entries)} visit{'s' if len(self.entries) != 1 else ''}"]
        for status in QueueStatus:
            count = statuses.count(status)
            if count:
                summary.append(f"{count} {STATUS_LABELS[status].lower()}")
        self.heading.setText(f"{heading} — {' · '.join(summary)}")
        self.table.setRowCount(len(self.entries))
        bold = QFont()
        bold.setBold(True)
        for row, entry in enumerate(self.entries):
            badge, worst = flag_badge(entry)
            started = entry.started_at.astimezone(tz)
            when = (
                f"{started:%H:%M}" if started.date() == self.today else f"{started:%Y-%m-%d %H:%M}"
            )
            cells = (
                when,
                entry.patient_name or "(name not given yet)",
                entry.birth_date or "—",
                STATUS_LABELS[entry.status],
                badge,
                entry.kiosk_id,
                entry.document_number,
            )
            items = [QTableWidgetItem(text) for text in cells]
            for column, item in enumerate(items):
                item.setData(Qt.ItemDataRole.UserRole, entry.visit_id)
                self.table.setItem(row, column, item)
            status_item = items[3]
            status_item.setForeground(QBrush(QColor(STATUS_COLOURS[entry.status])))
            status_item.setFont(bold)
            if worst is not None:
                ink, tint = SEVERITY_COLOURS[worst]
                flag_item = items[4]
                flag_item.setForeground(QBrush(QColor(ink)))
                flag_item.setBackground(QBrush(QColor(tint)))
                flag_item.setFont(bold)
            if entry.visit_id == selected:
                self.table.selectRow(row)
        self.open_button.setEnabled(bool(self.entries))

    def show_counts(self, counts: Sequence[SignatureCount]) -> None:
        if not counts:
            self.counts.setText("Signed consents: none yet")
            return
        parts = [f"{c.document_id} version {c.version}: {c.count}" for c in counts]
        self.counts.setText("Signed consents per version — " + " · ".join(parts))

    def selected_visit(self) -> str | None:
        row = self.table.currentRow()
        if 0 <= row < len(self.entries):
            return self.entries[row].visit_id
        return None

    def row_of(self, visit_id: str) -> int:
        return next((i for i, e in enumerate(self.entries) if e.visit_id == visit_id), -1)

    def _open_row(self, row: int) -> None:
        if 0 <= row < len(self.entries):
            self.visit_opened.emit(self.entries[row].visit_id)
