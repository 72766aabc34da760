"""The practitioner's monthly review: the queue, the one-screen summary, signing and unlocking."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.rules.billing import (
    MonthResult,
    block_text,
    clock,
    codes_words,
    dollars,
    warning_text,
)
from ccmdesk.rules.catalog import REASONS, Kind
from ccmdesk.rules.intervals import month_label
from ccmdesk.services import (
    Actor,
    BillingRow,
    MonthlySummary,
    Permission,
    ReviewQueue,
    ServiceError,
    allowed,
)
from ccmdesk.services.review import BELOW, BLOCKED, CLOSED, READY, SIGNED, care_plan_text
from ccmdesk.ui.forms import ask_reason, hint_label, plain, show_failure
from ccmdesk.ui.pages.billing import codes_cell
from ccmdesk.ui.pages.month_page import MonthPage
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import BLOCK_COLOR, WARNING_COLOR, prepare_table

PATIENT, MRN, MINUTES, CODES, AMOUNT, STATUS = range(6)
HEADERS = ("Patient", "MRN", "Min", "Codes", "Amount", "Status")
NUMERIC = frozenset({MINUTES, AMOUNT})
ALL = "all"
FILTERS = (
    (ALL, "All patients"),
    (READY, "Ready to sign"),
    (BLOCKED, "Blocked"),
    (BELOW, "Below threshold"),
    (SIGNED, "Signed"),
    (CLOSED, "Closed unsigned"),
)
STATUS_COLORS = {
    READY: QColor("#1d5fa8"),
    BLOCKED: BLOCK_COLOR,
    BELOW: WARNING_COLOR,
    SIGNED: QColor("#1e7a3c"),
    CLOSED: QColor("#5d6971"),
}
ROLE_WORDS = {"clinical": "clinical staff", "practitioner": "practitioner"}


def minutes(seconds: int) -> str:
    return f"{seconds // 60}"


class ReviewTableModel(RowsModel[tuple[BillingRow, str]]):
    """A practitioner's patients for the month, with what each needs from them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent, NUMERIC)
        self._all: list[tuple[BillingRow, str]] = []
        self._which = ALL

    def set_rows(self, rows: Sequence[tuple[BillingRow, str]]) -> None:
        self._all = list(rows)
        self._refresh()

    def set_filter(self, which: str) -> None:
        self._which = which
        self._refresh()

    def _refresh(self) -> None:
        self.beginResetModel()
        self._rows = [r for r in self._all if self._which == ALL or r[1] == self._which]
        self.endResetModel()

    def row_of(self, mrn: str) -> int:
        return self.position_where(lambda r: r[0].mrn == mrn)

    def _text(self, item: tuple[BillingRow, str], column: int) -> str:
        row, status = item
        r = row.result
        return (
            row.patient_name,
            row.mrn,
            minutes(r.countable_seconds),
            codes_cell(r),
            dollars(r.total_cents) if r.bills else "",
            status.capitalize(),
        )[column]

    def _cell(self, item: tuple[BillingRow, str], column: int, role: int) -> Any:
        row, status = item
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            return QBrush(STATUS_COLORS[status])
        if role == Qt.ItemDataRole.ToolTipRole and column == MINUTES:
            r = row.result
            return (
                f"Clinical staff {clock(r.staff_seconds)}, billing practitioner "
                f"{clock(r.practitioner_seconds)}"
            )
        if role == Qt.ItemDataRole.ToolTipRole and column == STATUS:
            return "\n".join(block_text(row.result, b) for b in row.result.blocks) or None
        return None


def _e(value: object) -> str:
    return html.escape(str(value))


def summary_html(s: MonthlySummary, zone: dt.tzinfo) -> str:
    """The monthly summary as one page of HTML; every piece of stored text is escaped."""
    row, r = s.row, s.row.result
    parts = [
        f"<h2>{_e(row.patient_name)}</h2>",
        f"<p>MRN {_e(row.mrn)} · born {s.dob:%d %b %Y} · {_e(month_label(s.month))} · "
        f"billing practitioner {_e(row.practitioner or 'none')}</p>",
    ]
    status = {
        READY: "Ready to sign",
        BLOCKED: "Blocked",
        BELOW: "Below threshold",
        SIGNED: "Signed",
    }[s.status]
    color = STATUS_COLORS[s.status].name()
    parts.append(f'<p><b style="color:{color}">{status}</b>')
    if s.closed:
        parts.append(" · the month is closed for billing")
    elif not s.month_over:
        parts.append(" · the month is not over yet")
    parts.append("</p>")
    conditions = "".join(
        f"<li>{_e(code)} — {_e(text) or 'not in the code set'}</li>" for code, text in s.conditions
    )
    parts.append(f"<h3>Conditions</h3><ul>{conditions or '<li>none on file</li>'}</ul>")
    consent = (
        f"{s.consent_date:%d %b %Y}" + (f" ({_e(s.consent_method)})" if s.consent_method else "")
        if s.consent_date
        else "none on file"
    )
    care_plan = care_plan_text(s.care_plan, s.care_plan_given_on)
    parts.append(f"<p>Consent: {consent} · Care plan: {_e(care_plan)}</p>")
    codes = (
        codes_words(r.codes)
        if r.lines
        else (codes_words(r.option.codes) + " once mended" if r.option else "none")
    )
    family = r.option.label if r.option else "no code family reached"
    parts.append(
        "<h3>Minutes and codes</h3>"
        f"<p>Program: <b>{_e(s.program)}</b><br>"
        f"Countable {clock(r.countable_seconds)} (clinical staff {clock(r.staff_seconds)}, "
        f"billing practitioner {clock(r.practitioner_seconds)})<br>"
        f"Proposed: <b>{_e(codes)}</b> · {_e(family)}"
        + (f" · {dollars(r.amount_cents)}" if r.billable else "")
        + "</p>"
    )
    reasons = [*r.blocks, *(w for w in r.warnings if w != "NOT_SIGNED")]
    if reasons:
        items = []
        for code in reasons:
            reason = REASONS[code]
            tint = BLOCK_COLOR if reason.kind == Kind.BLOCK else WARNING_COLOR
            mend = f" {_e(reason.mend)}" if reason.kind == Kind.BLOCK and reason.mend else ""
            # In this month's words (which payer, which family pays how much), as every screen.
            said = block_text(r, code) if reason.kind == Kind.BLOCK else warning_text(r, code)
            items.append(f'<li style="color:{tint.name()}">{_e(said)}{mend}</li>')
        parts.append(f"<h3>Blocks and warnings</h3><ul>{''.join(items)}</ul>")
    if s.estimate:
        parts.append(f"<p>{_e(s.estimate)}</p>")
    parts.append(_bhi_html(r))
    parts.append(_comparison_html(s))
    lines = []
    for line in s.log:
        start = line.started_at.astimezone(zone)
        end = f"{line.ended_at.astimezone(zone):%H:%M}" if line.ended_at else "running"
        what = [line.activity, line.service.upper()]
        if line.face_to_face:
            what.append("face to face")
        role = ROLE_WORDS.get(line.staff_role, line.staff_role)
        # Two columns read well at any width: when, then who and what with the note under it.
        lines.append(
            f"<tr><td style='white-space:nowrap' valign='top'>{start:%d %b} "
            f"{start:%H:%M}–{end}<br><b>{clock(line.seconds)}</b></td>"
            f"<td valign='top'><b>{_e(line.staff_name)}</b> ({_e(role)}) · "
            f"{_e(' · '.join(w for w in what if w))}"
            + (f"<br>{_e(line.note)}" if line.note else "")
            + "</td></tr>"
        )
    parts.append(
        f"<h3>Time log ({len(s.log)} entries)</h3>"
        + (
            f"<table cellspacing='0' cellpadding='4' width='100%'>{''.join(lines)}</table>"
            if lines
            else "<p>No time recorded this month.</p>"
        )
    )
    if s.signature is not None:
        sig = s.signature
        if s.changed_since_signed:
            parts.append(
                f'<p style="color:{BLOCK_COLOR.name()}"><b>The month no longer matches what was '
                "signed</b>: its codes, minutes or time log read differently now (the patient's "
                "record may have changed since). Unlock and sign again if it should bill as it "
                "reads now.</p>"
            )
        parts.append(
            f"<h3>Signed</h3><p>By {_e(sig.signed_by)} on "
            f"{sig.signed_at.astimezone(zone):%d %b %Y at %H:%M}<br><i>{_e(sig.attestation)}</i>"
            f"<br><small>Summary SHA-256 {_e(sig.summary_hash)}</small></p>"
        )
    for old in s.history:
        voided = old.voided_at.astimezone(zone) if old.voided_at else None
        parts.append(
            f"<p><small>Signed by {_e(old.signed_by)} on "
            f"{old.signed_at.astimezone(zone):%d %b %Y %H:%M}; unlocked by {_e(old.voided_by)}"
            + (f" on {voided:%d %b %Y %H:%M}" if voided else "")
            + f": {_e(old.void_reason)}</small></p>"
        )
    return "".join(parts)


def _bhi_html(r: MonthResult) -> str:
    """The month's general BHI: its minutes, codes, and blocks ("" without BHI time)."""
    bhi = r.bhi
    if bhi is None:
        return ""
    if bhi.billable:
        codes = f"<b>{_e(codes_words(bhi.codes))}</b> · {dollars(bhi.amount_cents)}"
    elif bhi.option is not None:
        codes = f"none ({_e(codes_words(bhi.option.codes))} once mended)"
    else:
        codes = "none"
    # Its explanation's own sentences ("12:00 of countable BHI time is below the 20:00 99484
    # needs"), as the billing panel's details say them.
    items = []
    for note in bhi.notes:
        reason = REASONS.get(note.code) if note.code else None
        if reason is None or note.code == "NOT_SIGNED":
            continue
        tint = BLOCK_COLOR if reason.kind == Kind.BLOCK else WARNING_COLOR
        items.append(f'<li style="color:{tint.name()}">{_e(note.text)}</li>')
    return (
        "<h3>General BHI</h3>"
        f"<p>Countable {clock(bhi.countable_seconds)} of behavioural health integration · "
        f"Proposed: {codes}</p>" + (f"<ul>{''.join(items)}</ul>" if items else "")
    )


def _comparison_html(s: MonthlySummary) -> str:
    """The program billed beside the others it was priced under, the best marked."""
    compared = s.comparison
    if not compared:
        return ""
    cells = "padding:2px 10px 2px 0"
    rows = [
        f"<tr><th align='left' style='{cells}'>Program</th>"
        f"<th align='left' style='{cells}'>Codes</th>"
        f"<th align='right' style='{cells}'>Amount</th><th></th></tr>"
    ]
    for price in compared:
        mark = "billed" if price.billed else ("pays more" if price.best else "")
        tint = f" style='color:{WARNING_COLOR.name()}'" if price.best else ""
        name = f"<b>{_e(price.name)}</b>" if price.billed else _e(price.name)
        rows.append(
            f"<tr{tint}><td style='{cells}'>{name}</td>"
            f"<td style='{cells}'>{_e(codes_words(price.codes)) or 'nothing'}</td>"
            f"<td align='right' style='{cells}'>{dollars(price.amount_cents)}</td>"
            f"<td>{mark}</td></tr>"
        )
    return (
        "<h3>Compared with the other programs</h3>"
        f"<table cellspacing='0'>{''.join(rows)}</table>"
        "<p><small>What each program would bill this month on the same facts, with the "
        "general BHI it allows. Changing the patient's program is the practitioner's or the "
        "biller's decision.</small></p>"
    )


class SignDialog(QDialog):
    """Confirm signing: every month listed with its codes and amount, and the attestation."""

    def __init__(
        self, month: str, rows: Sequence[BillingRow], attestation: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("signDialog")
        count = len(rows)
        self.setWindowTitle(f"Sign {month_label(month)}")
        self.setMinimumWidth(640)
        heading = plain(
            QLabel(f"Sign {count} patient month{'s' if count != 1 else ''} of {month_label(month)}")
        )
        heading.setObjectName("dialogHeading")
        self.table = QTableWidget(count, 5)
        self.table.setObjectName("signList")
        self.table.setHorizontalHeaderLabels(["Patient", "MRN", "Codes", "Amount", "Warnings"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().hide()
        for n, row in enumerate(rows):
            amount = QTableWidgetItem(dollars(row.result.total_cents))
            amount.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            # What the practitioner attests to despite: each month's own warnings (its not
            # being signed yet is what this dialog is for).
            said = [warning_text(row.result, w) for w in row.result.warnings if w != "NOT_SIGNED"]
            warnings = QTableWidgetItem(" ".join(said) if said else "—")
            warnings.setToolTip("\n".join(said))
            if said:
                warnings.setForeground(WARNING_COLOR)
            for column, item in enumerate(
                (
                    QTableWidgetItem(row.patient_name),
                    QTableWidgetItem(row.mrn),
                    QTableWidgetItem(codes_words(row.result.all_codes)),
                    amount,
                    warnings,
                )
            ):
                self.table.setItem(n, column, item)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(
            min(320, self.table.verticalHeader().defaultSectionSize() * (count + 1) + 8)
        )
        total = sum(row.result.total_cents for row in rows)
        self.total = QLabel(f"Total {dollars(total)}")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        statement = QLabel(
            "By signing you attest:"
            if count == 1
            else f"By signing you attest, for each of these {count} patients and their month:"
        )
        statement.setObjectName("attestationLead")
        self.attestation = plain(QLabel(attestation))
        self.attestation.setObjectName("attestation")
        self.attestation.setWordWrap(True)
        note = hint_label(
            "Signing freezes each month: its time and facts cannot change until it is unlocked, "
            "and unlocking voids the signature."
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = buttons.addButton(
            f"Sign {count} month{'s' if count != 1 else ''}",
            QDialogButtonBox.ButtonRole.AcceptRole,
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table)
        layout.addWidget(self.total)
        layout.addWidget(statement)
        layout.addWidget(self.attestation)
        layout.addWidget(note)
        layout.addWidget(buttons)


class ReviewPage(MonthPage):
    """A practitioner's month: who is ready to sign, blocked, short of time or signed."""

    TITLE = "Monthly review"
    NAME = "review"
    model: ReviewTableModel
    FILTERS = FILTERS
    LOADING = "Reviewing"

    def _build(self) -> None:
        self.queue: ReviewQueue | None = None
        self.summary: MonthlySummary | None = None
        heading = self.heading

        self.model = ReviewTableModel(self)
        self.table.setObjectName("reviewTable")
        self.table.setModel(self.model)
        prepare_table(self.table)
        # Several ready months can be signed in one go.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(PATIENT, QHeaderView.ResizeMode.Stretch)
        # The other columns hold short, known shapes: sized from the font, the name gets the rest.
        metrics = self.table.fontMetrics()
        for column, sample, padding in (
            (MRN, "RB1000000", 14),
            (MINUTES, "9999", 14),
            (CODES, "99490x1, 99439x2", 26),
            (AMOUNT, "$1,234.56", 12),
            (STATUS, "Below threshold", 26),
        ):
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + padding)
        self.sign_selected_button = QPushButton("Sign selected…")
        self.sign_selected_button.setObjectName("signSelected")
        self.select_ready_button = QPushButton("Select all ready")

        self.view = QTextBrowser()
        self.view.setObjectName("monthlySummary")
        self.view.setAccessibleName("Monthly summary")
        self.view.setOpenLinks(False)
        self.sign_button = QPushButton("Sign…")
        self.sign_button.setObjectName("signOne")
        self.unlock_button = QPushButton("Unlock…")
        self.facts_button = QPushButton("Month facts…")
        self.add_time_button = QPushButton("Add my time…")
        self.open_button = QPushButton("Open patient")

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(12)
        top.addWidget(self.month_box)
        top.addWidget(self.filter_box)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        table_buttons = QHBoxLayout()
        table_buttons.addWidget(self.select_ready_button)
        table_buttons.addWidget(self.sign_selected_button)
        table_buttons.addStretch(1)
        table_buttons.addWidget(self.open_button)
        left_layout.addLayout(table_buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.view, 1)
        summary_buttons = QHBoxLayout()
        for button in (self.sign_button, self.unlock_button, self.facts_button):
            summary_buttons.addWidget(button)
        summary_buttons.addStretch(1)
        summary_buttons.addWidget(self.add_time_button)
        right_layout.addLayout(summary_buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([660, 460])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addWidget(splitter, 1)

        self.filter_box.currentIndexChanged.connect(
            lambda _i: self.model.set_filter(str(self.filter_box.currentData()))
        )
        self.model.modelReset.connect(self._after_reset)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._sync_buttons())
        self.table.selectionModel().currentRowChanged.connect(self._show_current)
        self.select_ready_button.clicked.connect(self.select_ready)
        self.sign_selected_button.clicked.connect(self.sign_selected)
        self.sign_button.clicked.connect(self.sign_current)
        self.unlock_button.clicked.connect(self.unlock_current)
        self.facts_button.clicked.connect(self.edit_facts)
        self.add_time_button.clicked.connect(self.add_time)
        self.open_button.clicked.connect(self._open_current)
        self.show_summary(None)

    # --- loading --------------------------------------------------------------------------------

    def loaded_month(self) -> str | None:
        return self.queue.month if self.queue is not None else None

    def _load(self, actor: Actor, month: str) -> ReviewQueue:
        return self._services.review.queue(actor, month)

    def _drop_loaded(self) -> None:
        self.queue = None
        self.model.set_rows([])

    def _failure_text(self, month: str) -> str:
        return f"{month_label(month)} could not be reviewed."

    def _mrn_at(self, row: int) -> str:
        return self.model.row_at(row)[0].mrn

    def clear(self) -> None:
        super().clear()
        self.show_summary(None)

    def _loaded(self, queue: ReviewQueue) -> None:
        self.queue = queue
        self.model.set_rows(queue.rows)
        counts = " · ".join(
            f"{queue.count(status):,} {'closed unsigned' if status == CLOSED else status}"
            for status in (READY, BLOCKED, BELOW, SIGNED, CLOSED)
            if status != CLOSED or queue.count(status)
        )
        closed = " · closed for billing" if queue.closed else ""
        self.status_label.setText(
            f"{month_label(queue.month)} · {len(queue.rows):,} patients · {counts}{closed}"
        )

    # --- selection and the summary --------------------------------------------------------------

    def _after_reset(self) -> None:
        row = self.model.row_of(self._selected) if self._selected else -1
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.show_summary(None)
        self._sync_buttons()

    def _show_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row, _ = self.model.row_at(current.row())
        self._selected = row.mrn
        try:
            summary = self._services.review.summary(self._actor(), row.mrn, row.result.month)
        except ServiceError as error:
            self.show_summary(None)
            show_failure(self, error)
            return
        self.show_summary(summary)

    def show_summary(self, summary: MonthlySummary | None) -> None:
        self.summary = summary
        if summary is None:
            self.view.setHtml("<p>Choose a patient to see the month's summary.</p>")
        else:
            self.view.setHtml(summary_html(summary, self._services.practice_zone()))
        self._sync_buttons()

    def select_ready(self) -> None:
        """Select every row ready to sign (those shown)."""
        self.table.clearSelection()
        selection = self.table.selectionModel()
        flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
        for n in range(self.model.rowCount()):
            if self.model.row_at(n)[1] == READY:
                selection.select(self.model.index(n, PATIENT), flags)

    def selected_ready(self) -> list[BillingRow]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.row_at(n)[0] for n in rows if self.model.row_at(n)[1] == READY]

    def _sync_buttons(self) -> None:
        actor = self._actor()
        may_sign = allowed(actor, Permission.SIGN_MONTH)
        ready = self.selected_ready()
        self.sign_selected_button.setVisible(may_sign)
        self.select_ready_button.setVisible(may_sign)
        # What the service says of the month (closed, not begun), not a rule of the page's own.
        refusal = self.queue.sign_refusal if self.queue is not None else ""
        self.sign_selected_button.setEnabled(bool(ready) and not refusal)
        self.sign_selected_button.setToolTip(refusal)
        self.select_ready_button.setEnabled(not refusal)
        self.sign_selected_button.setText(
            f"Sign {len(ready)} selected…" if len(ready) > 1 else "Sign selected…"
        )
        s = self.summary
        own = s is not None and s.row.practitioner_key == actor.key
        self.sign_button.setVisible(may_sign)
        self.sign_button.setEnabled(
            s is not None and own and s.status == READY and not s.closed and not s.open_stopwatch
        )
        self.unlock_button.setVisible(allowed(actor, Permission.UNLOCK_MONTH))
        # The service's flag and sentence: the rule unlocking itself obeys.
        self.unlock_button.setEnabled(s is not None and s.can_unlock)
        self.unlock_button.setToolTip(s.unlock_refusal if s is not None else "")
        self.facts_button.setEnabled(s is not None)
        self.add_time_button.setVisible(allowed(actor, Permission.RECORD_TIME))
        self.add_time_button.setEnabled(s is not None and s.signature is None and not s.closed)
        self.open_button.setEnabled(s is not None)

    def _open_current(self) -> None:
        if self.summary is not None:
            self.open_requested.emit(self.summary.row.mrn)

    # --- signing and unlocking --------------------------------------------------------------------

    def sign_current(self) -> QDialog | None:
        if self.summary is None or not self.sign_button.isEnabled():
            return None
        return self._confirm_sign([self.summary.row])

    def sign_selected(self) -> QDialog | None:
        rows = self.selected_ready()
        return self._confirm_sign(rows) if rows else None

    def _confirm_sign(self, rows: list[BillingRow]) -> QDialog:
        month = rows[0].result.month
        dialog = SignDialog(month, rows, self._services.practice.attestation(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # What the dialog lists is what gets signed, or nothing is (the service checks).
        shown = {row.mrn: (row.result.all_codes, row.result.total_cents) for row in rows}
        dialog.accepted.connect(lambda: self._sign(month, shown))
        dialog.open()
        return dialog

    def _sign(self, month: str, shown: dict[str, tuple[str, int]]) -> None:
        self._change(
            lambda: self._services.review.sign_many(self._actor(), month, list(shown), shown)
        )

    def unlock_current(self) -> QDialog | None:
        s = self.summary
        if s is None or s.signature is None or not self.unlock_button.isEnabled():
            return None
        mrn, month = s.row.mrn, s.month
        return ask_reason(
            self,
            "Unlock a signed month",
            f"Unlocking voids {s.signature.signed_by}'s signature of "
            f"{s.signature.signed_at.astimezone(self._services.practice_zone()):%d %b %Y} on "
            f"{s.row.first_name} {s.row.last_name}'s {month_label(s.month)}. Its time and "
            "facts can then "
            "change, and the month must be signed again before it is billed."
            + (f"\n\n{s.unlock_warning}" if s.unlock_warning else ""),
            "Unlock",
            lambda reason: self._change(
                lambda: self._services.review.unlock(self._actor(), mrn, month, reason)
            ),
        )

    def edit_facts(self) -> QWidget | None:
        """Attest complexity (the billing practitioner) or see the month's other facts."""
        from ccmdesk.ui.month_facts import MonthFactsDialog

        if self.summary is None:
            return None
        row = self.summary.row
        try:
            facts = self._services.month_facts.for_edit(self._actor(), row.mrn, row.result.month)
        except ServiceError as error:
            show_failure(self, error)
            return None
        dialog = MonthFactsDialog(self._services, self._actor, row, facts, self)
        dialog.saved.connect(lambda _row: self._after_change())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add_time(self) -> bool:
        """The practitioner's own time for this patient, added by hand."""
        from ccmdesk.ui.stopwatch_dialogs import (
            ManualEntryDialog,
            add_by_hand,
            free_span,
            save_until_taken,
        )

        if self.summary is None or not self.add_time_button.isEnabled():
            return False
        mrn = self.summary.row.mrn
        dialog = ManualEntryDialog(
            self.summary.row.patient_name,
            self._services.practice.stopwatch_settings().activities,
            self._services.practice_zone(),
            self._services.now(),
            span=free_span(self._services, self._actor()),
            parent=self,
        )
        saved = save_until_taken(
            dialog,
            self.exec_dialog,
            lambda d: add_by_hand(self._services, self._actor(), mrn, d),
        )
        dialog.deleteLater()
        if saved:
            self._after_change()
        return saved

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a dialog (a method, so tests can fill it in instead of a person)."""
        return dialog.exec() == QDialog.DialogCode.Accepted
