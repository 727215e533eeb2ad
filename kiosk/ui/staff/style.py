"""The staff console's look: a calm desktop window for a front-desk computer (mouse and keyboard),
denser than the patient kiosk, with the flag colours the clinician summary PDF uses."""

from __future__ import annotations

from kiosk.domain.console import QueueStatus
from kiosk.domain.model import Severity

URGENT = "#b3261e"
REVIEW = "#9a5b00"
INFO = "#1f5fa8"
OK = "#1e7a3c"
MUTED = "#5b6470"

SEVERITY_COLOURS: dict[Severity, tuple[str, str]] = {  # text, background tint
    Severity.URGENT: (URGENT, "#fde8e6"),
    Severity.REVIEW: (REVIEW, "#fff2d9"),
    Severity.INFO: (INFO, "#e6effa"),
}
STATUS_COLOURS: dict[QueueStatus, str] = {
    QueueStatus.IN_PROGRESS: INFO,
    QueueStatus.NEEDS_REVIEW_URGENT: URGENT,
    QueueStatus.NEEDS_REVIEW: URGENT,
    QueueStatus.SIGNED: OK,
    QueueStatus.PAPER: REVIEW,
    QueueStatus.CONSENT_ON_FILE: OK,
    QueueStatus.ABANDONED: MUTED,
}

CONSOLE_STYLE = f"""
QWidget {{ font-family: "DejaVu Sans"; font-size: 14px; color: #1d232b; }}
QLabel {{ background: transparent; border: none; padding: 0; }}
QMainWindow, #consoleRoot {{ background: #f4f6f8; }}
#consoleHeader {{ background: #23395d; }}
#consoleHeader QLabel {{ color: white; }}
#consoleTitle {{ font-size: 18px; font-weight: bold; }}
#panelTitle, #detailTitle {{ font-size: 22px; font-weight: bold; }}
#sectionTitle {{ font-size: 16px; font-weight: bold; margin-top: 10px; }}
#hint, #muted {{ color: {MUTED}; }}
#errorText {{ color: {URGENT}; font-weight: bold; }}
QFrame[card="true"] {{ background: white; border: 1px solid #d5dbe2; border-radius: 8px; }}
QLineEdit, QDateEdit {{
    background: white; border: 1px solid #aab4bf; border-radius: 4px; padding: 6px 8px;
    min-height: 22px;
}}
QLineEdit:focus, QDateEdit:focus {{ border: 2px solid #23395d; }}
QPushButton {{
    background: white; border: 1px solid #8b97a5; border-radius: 6px; padding: 7px 16px;
    min-height: 20px;
}}
QPushButton:hover {{ background: #eef2f6; }}
QPushButton:disabled {{ color: #9aa3ad; border-color: #ccd2d8; }}
QPushButton[primary="true"] {{
    background: #23395d; color: white; border-color: #23395d; font-weight: bold;
}}
QPushButton[primary="true"]:hover {{ background: #2e4a78; }}
QPushButton[primary="true"]:disabled {{ background: #9aa8bd; border-color: #9aa8bd; }}
#consoleHeader QPushButton {{ background: transparent; color: white; border-color: #9fb0c8; }}
QTableWidget {{
    background: white; border: 1px solid #d5dbe2; gridline-color: #e6eaee;
    selection-background-color: #dbe6f5; selection-color: #1d232b;
}}
QHeaderView::section {{
    background: #e9edf2; border: none; border-bottom: 1px solid #d5dbe2; padding: 6px;
    font-weight: bold;
}}
QScrollArea {{ border: none; background: transparent; }}
#detailBody {{ background: transparent; }}
"""
