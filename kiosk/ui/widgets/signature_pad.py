"""A signature pad for a finger, a stylus or a mouse."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
)
from PySide6.QtWidgets import QWidget

from kiosk.domain.signature import DrawnSignature, Point, Stroke

INK = QColor("#10243A")
PEN_WIDTH = 4.0
PNG_SCALE = 2  # render the stored image at twice the pad's size for a crisp print


class SignaturePad(QWidget):
    """Collects strokes; ``signature()`` returns them with a rendered PNG."""

    changed = Signal()

    def __init__(self, hint: str = "") -> None:
        super().__init__()
        self.setObjectName("signaturePad")
        self.setAccessibleName(hint or "Signature")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setMinimumHeight(260)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._hint = hint
        self._strokes: list[list[Point]] = []
        self._drawing = False

    # --- input ---

    def _begin(self, point: QPointF) -> None:
        self._drawing = True
        self._strokes.append([(point.x(), point.y())])
        self.update()

    def _extend(self, point: QPointF) -> None:
        if self._drawing and self._strokes:
            self._strokes[-1].append((point.x(), point.y()))
            self.update()

    def _end(self) -> None:
        if self._drawing:
            self._drawing = False
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())
        self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QTabletEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def add_stroke(self, points: list[tuple[float, float]]) -> None:
        """Add a whole stroke at once (replaying stored strokes, or tests)."""
        if points:
            self._strokes.append(list(points))
            self.update()
            self.changed.emit()

    def strokes(self) -> list[list[tuple[float, float]]]:
        """A copy of the strokes drawn so far."""
        return [list(stroke) for stroke in self._strokes]

    def clear(self) -> None:
        """Wipe the pad."""
        self._strokes.clear()
        self._drawing = False
        self.update()
        self.changed.emit()

    def is_empty(self) -> bool:
        return not self._strokes

    # --- output ---

    def _path(self, scale: float = 1.0) -> QPainterPath:
        path = QPainterPath()
        for stroke in self._strokes:
            path.moveTo(stroke[0][0] * scale, stroke[0][1] * scale)
            if len(stroke) == 1:
                path.lineTo(stroke[0][0] * scale + 0.5, stroke[0][1] * scale)
            for x, y in stroke[1:]:
                path.lineTo(x * scale, y * scale)
        return path

    def _pen(self, scale: float = 1.0) -> QPen:
        pen = QPen(INK, PEN_WIDTH * scale)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        baseline = self.height() * 0.72
        painter.setPen(QPen(QColor("#8A96A3"), 2))
        painter.drawLine(QPointF(32, baseline), QPointF(self.width() - 32, baseline))
        if not self._strokes and self._hint:
            painter.setPen(QColor("#4A5663"))
            painter.drawText(
                QRectF(0, baseline + 8, self.width(), 40), Qt.AlignmentFlag.AlignCenter, self._hint
            )
        painter.setPen(self._pen())
        painter.drawPath(self._path())
        painter.end()

    def render_png(self) -> bytes:
        """The strokes alone, dark ink on white, at twice the pad's size."""
        image = QImage(
            max(1, self.width() * PNG_SCALE),
            max(1, self.height() * PNG_SCALE),
            QImage.Format.Format_RGB32,
        )
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._pen(PNG_SCALE))
        painter.drawPath(self._path(PNG_SCALE))
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # stubs say bytes; runtime wants str
        buffer.close()
        return bytes(data.data())

    def signature(self) -> DrawnSignature:
        """The strokes, the pad's size and the PNG, for the domain to judge and store."""
        strokes: tuple[Stroke, ...] = tuple(tuple(s) for s in self._strokes)
        png = self.render_png() if strokes else b""
        return DrawnSignature(strokes, float(self.width()), float(self.height()), png)
