"""The billing panel: a month of patients, billable or not and why, with totals and details."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
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
from ccmdesk.rules.text import fold
from ccmdesk.services import (
    Actor,
    BillingMonth,
    BillingRow,
    MonthState,
    Permission,
    ServiceError,
    allowed,
)
from ccmdesk.services.billing.closing import BillCheck
from ccmdesk.services.billing.comparison import comparison, gains_text, program_name, switch_gains
from ccmdesk.services.billing.evaluation import amount_by_code
from ccmdesk.services.claim_files import sendable
from ccmdesk.services.claims import ClaimStatus
from ccmdesk.ui.forms import ask, ask_reason, plain, show_failure
from ccmdesk.ui.pages.month_page import MonthPage
from ccmdesk.ui.widgets.rows_model import RowsModel
from ccmdesk.ui.widgets.tables import (
    BLOCK_COLOR,
    WARNING_COLOR,
    enter_pressed,
    prepare_table,
)

(
    PATIENT,
    MRN,
    PRACTITIONER,
    PROGRAM,
    STAFF_MIN,
    PRACTITIONER_MIN,
    CODES,
    BHI,
    AMOUNT,
    STATUS,
    SIGNED,
    CLAIM,
) = range(12)
HEADERS = (
    "Patient",
    "MRN",
    "Practitioner",
    "Program",
    "Staff min",
    "Pract. min",
    "Codes",
    "BHI min",
    "Amount",
    "Status",
    "Signed",
    "Claim",
)
NUMERIC = frozenset({STAFF_MIN, PRACTITIONER_MIN, BHI, AMOUNT})
# What each column usually holds, for its width. Twelve columns must fit a 1,366 px screen
# beside the navigation: the samples are the usual content, not the longest (tooltips and
# the details pane say the rest).
COLUMN_SAMPLES = (
    "Abernathy, Beatriz",
    "RB100000",
    "Adaeze Okafor",
    "PCM (focus E11.65)",
    "99:00",
    "99:00",
    "99490x1, 99439x2",
    "99:00",
    "$1,234.56",
    "Not billable · 2 blocks",
    "Not signed",
    "Needs payer",
)
# The columns a narrow window hides, first to last: the MRN is in the details' heading, the
# patient's tooltip and the search; whether a billable month is signed is in the Claim column
# and the "Not signed" filter; the practitioner's own minutes are in the details.
FOLDABLE = (MRN, SIGNED, PRACTITIONER_MIN)
HEADER_TIPS = {
    PRACTITIONER: "The patient's billing practitioner.",
    PROGRAM: "The patient's program this month: CCM/PCM, PCM on a focus condition, or APCM.",
    STAFF_MIN: "Countable minutes of clinical staff.",
    PRACTITIONER_MIN: "Countable minutes of the billing practitioner's own time.",
    CODES: (
        "Codes in brackets are what a blocked month would bill once mended; 99484 is the "
        "month's general BHI."
    ),
    BHI: (
        "Countable minutes of general behavioural health integration (99484), in brackets "
        "when they do not bill."
    ),
    AMOUNT: "What the month bills in all: its program and its general BHI.",
    CLAIM: (
        "Whether the month can go in the 837P claim file: Ready, Sent, or what keeps it out "
        "(hover over a cell for each reason and its mend)."
    ),
}

(
    ALL,
    BILLABLE,
    NOT_BILLABLE,
    WARNINGS,
    UNSIGNED,
    NEAR,
    CLAIM_READY,
    NOT_CLAIM_READY,
    PAYS_MORE,
) = (
    "all",
    "billable",
    "not_billable",
    "warnings",
    "unsigned",
    "near",
    "claim_ready",
    "not_claim_ready",
    "pays_more",
)
FILTERS = (
    (ALL, "All patients"),
    (BILLABLE, "Billable"),
    (NOT_BILLABLE, "Not billable"),
    (WARNINGS, "Has warnings"),
    (UNSIGNED, "Not signed"),
    (NEAR, "Within 5 minutes of the next threshold"),
    (CLAIM_READY, "Claim-ready"),
    (NOT_CLAIM_READY, "Not claim-ready"),
    (PAYS_MORE, "Another program pays more"),
)
# What each claim edit says is missing, in a word or two, in the order a biller mends them
# (the payer first, the practice's settings last); its sentence and mend (catalog.REASONS) are
# the cell's tooltip.
CLAIM_EDIT_WORDS = {
    "CLAIM_NO_PAYER": "payer",
    "CLAIM_NO_EDI_PAYER_ID": "EDI payer id",
    "CLAIM_NO_MEMBER_ID": "member id",
    "CLAIM_NO_SEX": "sex",
    "CLAIM_NO_DIAGNOSIS": "diagnosis",
    "CLAIM_NO_SIGNATURE_ON_FILE": "signature on file",
    "CLAIM_NO_ADDRESS": "patient address",
    "CLAIM_PRACTICE_ADDRESS": "practice address",
    "CLAIM_NO_SUBMITTER": "clearinghouse settings",
}
CLAIM_WORDS_SHOWN = 3  # more say "+N more": the column stays narrow, the tooltip has them all
NO_CLAIM = "—"  # a month that does not bill is no claim


def shown_codes(row: BillingRow) -> str:
    """The codes the row shows: billed, or for a blocked month what it would bill once mended."""
    result = row.result
    if result.billable:
        return result.codes
    return result.option.codes if result.option else ""


def codes_cell(result: MonthResult) -> str:
    """The Codes column: the program's codes (in brackets when blocked: what it would bill
    once mended), then the general BHI's 99484 when it bills."""
    if result.billable:
        codes = codes_words(result.codes)
    elif result.option is not None:
        codes = f"({codes_words(result.option.codes)})"
    else:
        codes = ""
    bhi = result.bhi
    if bhi is not None and bhi.billable:
        codes = ", ".join(c for c in (codes, codes_words(bhi.codes)) if c)
    return codes


def bhi_text(result: MonthResult) -> str:
    """The BHI column: "21:00" when the month bills general BHI (its 99484 is in the Codes
    column), "(12:00)" when its BHI time does not bill, "" when no time is tagged BHI."""
    bhi = result.bhi
    if bhi is None:
        return ""
    minutes = clock(bhi.countable_seconds)
    return minutes if bhi.billable else f"({minutes})"


def bhi_tooltip(result: MonthResult) -> str | None:
    bhi = result.bhi
    if bhi is None:
        return None
    if bhi.billable:
        head = f"General BHI bills {codes_words(bhi.codes)}: {dollars(bhi.amount_cents)}."
    else:
        head = "General BHI does not bill this month."
    return "\n".join([head, reasons_text(bhi)]).strip()


def status_text(result: MonthResult) -> str:
    if result.billable:
        return "Billable"
    if result.bills:
        return "BHI only"  # its program is blocked, its general BHI bills
    return "Not billable"


def reasons_text(result: MonthResult) -> str:
    """The blocks and warnings in words (NOT_SIGNED is shown in its own column), each in this
    month's words (which payer, which program), as the explanation says them."""
    said = [block_text(result, code) for code in result.blocks]
    said += [warning_text(result, w) for w in result.warnings if w != "NOT_SIGNED"]
    return "\n".join(said)


def _mend_order(edits: Sequence[str]) -> list[str]:
    order = list(CLAIM_EDIT_WORDS)
    return sorted(edits, key=lambda code: order.index(code) if code in order else len(order))


def claim_text(row: BillingRow, claim: ClaimStatus | None) -> str:
    """The Claim column: "Ready", "Sent (<file>)", or what keeps the claim out of the claim
    file ("Not signed; needs payer, member id, sex +2 more"); a dash for a month that does not
    bill."""
    if not row.result.bills or claim is None:
        return NO_CLAIM
    said = [] if row.result.signed else ["Not signed"]
    if claim.sent_in:
        said.append(f"{'sent' if said else 'Sent'} ({claim.sent_in})")
    elif claim.edits:
        missing = [CLAIM_EDIT_WORDS.get(code, code) for code in _mend_order(claim.edits)]
        needs = ", ".join(missing[:CLAIM_WORDS_SHOWN])
        if len(missing) > CLAIM_WORDS_SHOWN:
            needs += f" +{len(missing) - CLAIM_WORDS_SHOWN} more"
        said.append(f"{'needs' if said else 'Needs'} {needs}")
    return "; ".join(said) or "Ready"


def claim_tooltip(row: BillingRow, claim: ClaimStatus | None) -> str:
    """Each claim edit's sentence and mend, one a line (the signature first)."""
    if not row.result.bills or claim is None:
        return "The month does not bill, so there is no claim."
    lines = []
    if not row.result.signed:
        lines.append("The month is not signed: a claim file carries only signed months.")
    if claim.sent_in:
        lines.append(
            f"The claim was sent in {claim.sent_in}; a later export leaves it out unless it is "
            "asked to resend it."
        )
    for code in _mend_order(claim.edits):
        reason = REASONS[code]
        lines.append(f"{reason.text} {reason.mend}".strip())
    return "\n".join(lines) or "Claim-ready: it goes in the next claim file."


def matches(row: BillingRow, which: str, claim: ClaimStatus | None = None) -> bool:
    result = row.result
    if which == CLAIM_READY:
        return sendable(row, claim, resend=True)
    if which == NOT_CLAIM_READY:
        return result.bills and not sendable(row, claim, resend=True)
    if which == BILLABLE:
        return result.bills
    if which == NOT_BILLABLE:
        return not result.bills
    if which == WARNINGS:
        return result.has_warnings
    if which == UNSIGNED:
        return not result.signed
    if which == NEAR:
        return result.near_threshold
    if which == PAYS_MORE:
        return result.pays_more is not None
    return True


# A row with what sorting and filtering need: its name key, search text and the filters it passes.
Item = tuple[BillingRow, tuple[str, str, str], str, frozenset[str]]


class BillingTableModel(RowsModel[BillingRow]):
    """A month's rows; filtering, search and sorting choose which rows show, in what order.

    The model does this itself, in one Python pass per change, and resets: a proxy over
    10,000 rows would call back into Python for every row on every keystroke.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(HEADERS, parent, numeric=NUMERIC)
        # Every row of the month in the current sort order, each with what sorting and
        # filtering need worked out once per load: its name key, its folded search text and
        # the filters it passes. A filter or search change is then one pass over these.
        self._by_name: list[Item] = []
        self._items = self._by_name  # the same, in the current sort order
        self._filter = ALL
        self._claims: Mapping[str, ClaimStatus] = {}
        self._words: tuple[str, ...] = ()
        self._sort_column = PATIENT
        self._sort_order = Qt.SortOrder.AscendingOrder

    # --- what shows ---------------------------------------------------------------------------

    def set_rows(
        self, rows: Sequence[BillingRow], claims: Mapping[str, ClaimStatus] | None = None
    ) -> None:
        """The month's rows, and their claim statuses by MRN (BillingMonth.claims)."""
        self._claims = claims or {}
        self._by_name = sorted((self._item(row) for row in rows), key=lambda item: item[1])
        self._sort_items()
        self._refresh()

    def replace_row(self, row: BillingRow) -> None:
        """One patient's month again (after its facts or family changed)."""
        self._by_name = [self._item(row) if it[0].mrn == row.mrn else it for it in self._by_name]
        self._sort_items()
        self._refresh()

    def set_filter(self, which: str) -> None:
        self._filter = which
        self._refresh()

    def set_search(self, text: str) -> None:
        words = tuple(dict.fromkeys(fold(text).replace(",", " ").split()))
        if words != self._words:
            self._words = words
            self._refresh()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder what shows; a layout change, not a reset, so the selection and the totals
        (the same rows) stay as they are."""
        if not 0 <= column < len(HEADERS):
            return
        self._sort_column, self._sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        old_rows = self._rows
        self._sort_items()
        self._rows = self._visible()
        position = {id(row): n for n, row in enumerate(self._rows)}
        old_indexes = self.persistentIndexList()
        self.changePersistentIndexList(
            old_indexes,
            [self.index(position[id(old_rows[i.row()])], i.column()) for i in old_indexes],
        )
        self.layoutChanged.emit()

    def shown(self) -> list[BillingRow]:
        return list(self._rows)

    def row_of(self, mrn: str) -> int:
        return self.position_where(lambda row: row.mrn == mrn)

    def claim(self, row: BillingRow) -> ClaimStatus | None:
        """The row's claim status; None for a month that does not bill."""
        return self._claims.get(row.mrn) if row.result.bills else None

    def _item(self, row: BillingRow) -> Item:
        name = (fold(row.last_name), fold(row.first_name), row.mrn)
        key = (
            f"{name[0]} {name[1]} {row.mrn.lower()} {fold(row.practitioner)} {shown_codes(row)} "
            f"{codes_cell(row.result)} {fold(program_name(row.result))}"
        )
        claim = self.claim(row)
        flags = frozenset(which for which, _ in FILTERS if matches(row, which, claim))
        return row, name, key, flags

    def _sort_items(self) -> None:
        # From name order, a stable sort (also in reverse) by the column: ties keep the name
        # order whichever way the column runs.
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if self._sort_column == PATIENT and not descending:
            self._items = list(self._by_name)
            return
        self._items = sorted(
            self._by_name, key=lambda item: self._sort_key(item[0], item[1]), reverse=descending
        )

    def _visible(self) -> list[BillingRow]:
        words, which = self._words, self._filter
        return [
            row
            for row, _, key, flags in self._items
            if which in flags and all(word in key for word in words)
        ]

    def _refresh(self) -> None:
        self.beginResetModel()
        self._rows = self._visible()
        self.endResetModel()

    def _sort_key(self, row: BillingRow, name: tuple[str, str, str]) -> Any:
        r = row.result
        column = self._sort_column
        if column == MRN:
            return row.mrn
        if column == PRACTITIONER:
            return row.practitioner.casefold()
        if column == PROGRAM:
            return program_name(r)
        if column == BHI:
            return r.bhi.countable_seconds if r.bhi is not None else -1
        if column == STAFF_MIN:
            return r.staff_seconds
        if column == PRACTITIONER_MIN:
            return r.practitioner_seconds
        if column == CODES:
            return (not r.billable, shown_codes(row))
        if column == AMOUNT:
            return r.total_cents
        if column == STATUS:
            return (r.billable, -len(r.blocks))
        if column == SIGNED:
            return r.signed
        if column == CLAIM:
            return (not r.bills, claim_text(row, self.claim(row)))
        return name

    # --- QAbstractTableModel --------------------------------------------------------------------

    def _cell(self, row: BillingRow, column: int, role: int) -> Any:
        result = row.result
        if role == Qt.ItemDataRole.ToolTipRole:
            if column in (STATUS, CODES):
                return reasons_text(result) or None
            if column == PATIENT:
                return f"MRN {row.mrn}; double-click to open the patient"
            if column == CLAIM:
                return claim_tooltip(row, self.claim(row))
            if column == BHI:
                return bhi_tooltip(result)
            if column == PROGRAM:
                better = result.pays_more
                if better is not None:
                    return warning_text(result, "OTHER_PROGRAM_PAYS_MORE")
                return None
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == STATUS:
            if result.blocks:
                return QBrush(BLOCK_COLOR)
            if result.has_warnings:
                return QBrush(WARNING_COLOR)
            return None
        if role == Qt.ItemDataRole.UserRole:
            return row.mrn
        return None

    def _text(self, row: BillingRow, column: int) -> str:
        r = row.result
        if column == PATIENT:
            return row.patient_name
        if column == MRN:
            return row.mrn
        if column == PRACTITIONER:
            return row.practitioner
        if column == PROGRAM:
            return program_name(r)
        if column == BHI:
            return bhi_text(r)
        if column == STAFF_MIN:
            return clock(r.staff_seconds)
        if column == PRACTITIONER_MIN:
            return clock(r.practitioner_seconds)
        if column == CODES:
            return codes_cell(r)
        if column == AMOUNT:
            return dollars(r.total_cents) if r.bills else ""
        if column == STATUS:
            text = status_text(r)
            if r.blocks:
                text += f" · {len(r.blocks)} block" + ("s" if len(r.blocks) > 1 else "")
            elif r.has_warnings:
                text += " · warnings"
            return text
        if column == SIGNED:
            return "Signed" if r.signed else "Not signed"
        if column == CLAIM:
            return claim_text(row, self.claim(row))
        return ""

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return HEADER_TIPS.get(section)
        return super().headerData(section, orientation, role)


def totals_text(rows: Sequence[BillingRow]) -> str:
    """ "412 patients shown · 350 billable · $31,204.50 · 99490 $20,102.00 · 99439 …"; the
    amounts include general BHI (a month blocked for its program may still bill 99484)."""
    billable = [r for r in rows if r.result.bills]
    by_code = amount_by_code(rows)
    total = sum(by_code.values())
    patient_word = "patient" if len(rows) == 1 else "patients"
    parts = [f"{len(rows):,} {patient_word} shown", f"{len(billable):,} billable", dollars(total)]
    parts += [f"{code} {dollars(cents)}" for code, cents in by_code.items()]
    return " · ".join(parts)


class DetailsPane(QWidget):
    """One patient's month explained line by line; reasons as sentences, codes in tooltips."""

    facts_requested = Signal(str)  # MRN
    family_requested = Signal(str)
    program_requested = Signal(str)
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = plain(QLabel("Choose a patient to see why"))
        self.heading.setObjectName("pageHeading")
        self.heading.setWordWrap(True)
        self.summary = plain(QLabel())
        self.summary.setWordWrap(True)
        self.summary.setObjectName("hint")
        self.lines = QListWidget()
        self.lines.setObjectName("billingDetails")
        self.lines.setWordWrap(True)
        self.lines.setAccessibleName("Why")
        self.facts_button = QPushButton("Month facts…")
        self.family_button = QPushButton("Switch code family…")
        self.program_button = QPushButton("Change program…")
        self.program_button.setToolTip(
            "The patient's program (CCM/PCM, PCM on a focus condition, APCM) from a month on."
        )
        self.open_button = QPushButton("Open patient")
        buttons = QHBoxLayout()
        buttons.addWidget(self.facts_button)
        buttons.addWidget(self.family_button)
        buttons.addWidget(self.program_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        self.lines.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.lines, 1)
        layout.addLayout(buttons)
        self._mrn: str | None = None
        self.facts_button.clicked.connect(lambda: self._emit(self.facts_requested))
        self.family_button.clicked.connect(lambda: self._emit(self.family_requested))
        self.program_button.clicked.connect(lambda: self._emit(self.program_requested))
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.show_row(None)

    def _add_heading(self, text: str) -> None:
        item = QListWidgetItem(text)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        self.lines.addItem(item)

    def _add_notes(self, r: MonthResult) -> None:
        """A result's explanation, blocks and warnings tinted, each with its code as tooltip."""
        for note in r.notes:
            item = QListWidgetItem(note.text)
            if note.code:
                reason = REASONS.get(note.code)
                item.setToolTip(note.code)
                if reason is not None and reason.kind == Kind.BLOCK:
                    item.setForeground(QBrush(BLOCK_COLOR))
                elif reason is not None and note.code != "NOT_SIGNED":
                    item.setForeground(QBrush(WARNING_COLOR))
            self.lines.addItem(item)

    def _emit(self, signal: Any) -> None:
        if self._mrn is not None:
            signal.emit(self._mrn)

    def show_row(
        self,
        row: BillingRow | None,
        may_switch: bool = False,
        why_not: str = "",
        *,
        hidden: bool = False,
        claim: ClaimStatus | None = None,
    ) -> None:
        """Explain a row; `hidden`: it no longer matches the filter or search. `may_switch`
        and `why_not` are the service's can_switch_family flag and refusal; `claim`, the
        row's claim status, adds what keeps a billable month out of the claim file."""
        self.lines.clear()
        self._mrn = row.mrn if row else None
        for button in (self.facts_button, self.open_button, self.program_button):
            button.setEnabled(row is not None)
        if row is None:
            self.heading.setText("Choose a patient to see why")
            self.summary.setText("")
            self.family_button.setEnabled(False)
            return
        r = row.result
        self.heading.setText(f"{row.patient_name} · MRN {row.mrn}")
        family = r.option.label if r.option else "no code family reached"
        signed = "signed" if r.signed else "not signed"
        self.summary.setText(
            f"{month_label(r.month)} · {program_name(r)} · {status_text(r)} · {family} · "
            f"{signed} · billing "
            f"practitioner {row.practitioner or 'none'}"
            + (" · no longer matches the filter or search, so it left the table" if hidden else "")
        )
        self.family_button.setEnabled(may_switch and len(r.compliant) > 1)
        self.family_button.setToolTip(why_not)
        self._add_notes(r)
        if claim is not None and r.bills:
            if claim.sent_in:
                self.lines.addItem(f"Claim {claim.claim_id} was sent in {claim.sent_in}.")
            elif claim.ready:
                self.lines.addItem(
                    f"Claim {claim.claim_id} goes in the next claim file"
                    + ("." if r.signed else " once the month is signed.")
                )
            for code in _mend_order(claim.edits):
                reason = REASONS[code]
                item = QListWidgetItem(f"Not in the claim file: {reason.text} {reason.mend}")
                item.setToolTip(code)
                item.setForeground(QBrush(WARNING_COLOR))
                self.lines.addItem(item)
        if r.bhi is not None:
            self._add_heading("General BHI (99484)")
            self._add_notes(r.bhi)
        compared = comparison(r)
        if compared:
            self._add_heading("Compared with the other programs")
            for price in compared:
                codes = codes_words(price.codes) or "nothing"
                if price.billed:
                    text = f"{price.name} (billed now): {codes}, {dollars(price.amount_cents)}"
                else:
                    text = f"{price.name} would bill {codes}, {dollars(price.amount_cents)}"
                    if price.best:
                        text += " · pays more"
                item = QListWidgetItem(text)
                if price.best:
                    item.setForeground(QBrush(WARNING_COLOR))
                self.lines.addItem(item)


class BillingPage(MonthPage):
    """Pick a month; every enrolled or active patient with codes, amount, status and why."""

    TITLE = "Billing"
    NAME = "billing"
    model: BillingTableModel
    FILTERS = FILTERS
    # A patient's waiver or program changed from this page: every page that shows or bills
    # patients re-reads (the worklist's targets follow the program).
    patients_changed = Signal()

    def _build(self) -> None:
        self.month: BillingMonth | None = None
        self._kept: BillingRow | None = None  # a changed row to keep explaining if hidden

        heading = self.heading
        self.search_field = QLineEdit()
        self.search_field.setObjectName("billingSearch")
        self.search_field.setPlaceholderText("Find: patient, MRN, practitioner or code")
        self.search_field.setClearButtonEnabled(True)
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("exportMonth")
        self.close_button = QPushButton("Close month…")
        self.close_button.setObjectName("closeMonth")
        self.reopen_button = QPushButton("Reopen month…")
        self.reopen_button.setObjectName("reopenMonth")
        self.status_label.setWordWrap(True)
        self.closed_label = plain(QLabel())
        self.closed_label.setObjectName("closedLabel")
        self.month_state: MonthState | None = None
        # A billed month whose bill changed since (a late revocation, an edit behind ccmdesk's
        # back) says so above the table until billing acknowledges it.
        self.drift_label = plain(QLabel())
        self.drift_label.setObjectName("billDrift")
        self.drift_label.setWordWrap(True)
        self.drift_label.setVisible(False)
        self.acknowledge_button = QPushButton("Acknowledge…")
        self.acknowledge_button.setObjectName("acknowledgeChanges")
        self.acknowledge_button.setVisible(False)
        self.bill_check: BillCheck | None = None

        self.model = BillingTableModel(self)
        self.table.setObjectName("billingTable")
        self.table.setModel(self.model)
        prepare_table(self.table)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(PATIENT, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        # Each column sized from the font for its usual content (or its header); the Claim
        # column, last, takes what is left, and its tooltip says in full what the cell may cut
        # short. A window too narrow for all twelve hides the ones said elsewhere (fit_columns).
        metrics = self.table.fontMetrics()
        headers = header.fontMetrics()
        self._natural: list[int] = []
        for column, sample in enumerate(COLUMN_SAMPLES):
            width = max(
                metrics.horizontalAdvance(sample), headers.horizontalAdvance(HEADERS[column])
            )
            self._natural.append(width + 24)
            self.table.setColumnWidth(column, width + 24)
        self.details = DetailsPane()
        self.totals_label = QLabel()
        self.totals_label.setObjectName("totalsLabel")
        self.totals_label.setWordWrap(True)
        # What switching the shown patients another program pays more for would add, one
        # sentence per program (BillingMonth.switch_gains' arithmetic, over the rows shown).
        self.gains_label = plain(QLabel())
        self.gains_label.setObjectName("switchGains")
        self.gains_label.setWordWrap(True)
        self.gains_label.setVisible(False)

        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(12)
        top.addWidget(self.month_box)
        top.addWidget(self.filter_box)
        top.addWidget(self.search_field, 1)
        # The details go under the table: the nine columns need the width more than the
        # explanation, whose sentences read well on full-width lines.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([380, 280])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        # The month's actions on a row of their own under the filters: on one row with them
        # the page needed 917 px, too wide for a 1,024 px window beside the navigation.
        actions = QHBoxLayout()
        actions.addWidget(self.closed_label, 1)
        for button in (self.refresh_button, self.export_button, self.close_button):
            actions.addWidget(button)
        actions.addWidget(self.reopen_button)
        # Billing's list of every patient's hardship waivers (docs/payers.md).
        self.waivers_button = QPushButton("Hardship waivers…")
        self.waivers_button.setObjectName("hardshipWaivers")
        self.waivers_button.clicked.connect(self.show_waivers)
        actions.addWidget(self.waivers_button)
        layout.addLayout(status_row)
        layout.addLayout(actions)
        drift_row = QHBoxLayout()
        drift_row.addWidget(self.drift_label, 1)
        drift_row.addWidget(self.acknowledge_button)
        layout.addLayout(drift_row)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.gains_label)

        self.filter_box.currentIndexChanged.connect(self._on_filter)
        self.search_field.textChanged.connect(self._on_search)
        self.export_button.clicked.connect(self.export_month)
        self.close_button.clicked.connect(self.close_month)
        self.reopen_button.clicked.connect(self.reopen_month)
        self.acknowledge_button.clicked.connect(self.acknowledge_changes)
        self.model.modelReset.connect(self._after_reset)
        self.table.installEventFilter(self)
        self.table.viewport().installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(self._show_current)
        self.details.open_requested.connect(self.open_requested)
        self.details.facts_requested.connect(self.edit_facts)
        self.details.family_requested.connect(self.switch_family)
        self.details.program_requested.connect(self.change_program)

    def show_waivers(self) -> QDialog:
        from ccmdesk.ui.waivers import WaiversDialog

        dialog = WaiversDialog(self._services, self._actor, self._services.today, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.list.changed.connect(self.patients_changed)
        dialog.open()
        return dialog

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and enter_pressed(event) and self.current_row() is not None:
            self._open_index(self.table.currentIndex())
            return True
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            # The viewport's own resize: the table's comes before its viewport has the new size.
            self.fit_columns()
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Hide the columns whose content the row says elsewhere until the rest fit the
        table's width, rather than scroll sideways: on a 1,366 px screen twelve columns do
        not fit beside the navigation (FOLDABLE says which go first, and why)."""
        room = self.table.viewport().width()
        hidden: set[int] = set()
        for column in FOLDABLE:
            shown = sum(w for c, w in enumerate(self._natural) if c not in hidden)
            if shown <= room:
                break
            hidden.add(column)
        for column in range(len(HEADERS)):
            self.table.setColumnHidden(column, column in hidden)

    # --- loading --------------------------------------------------------------------------------

    def loaded_month(self) -> str | None:
        return self.month.month if self.month is not None else None

    def _drop_loaded(self) -> None:
        self.month = None
        self.model.set_rows([], {})

    def _mrn_at(self, row: int) -> str:
        return self.model.row_at(row).mrn

    def _load(self, actor: Actor, month: str) -> tuple[BillingMonth, BillCheck]:
        """On the worker thread: the month, and whether it is still what was billed (checked
        against the rows just evaluated, not a second evaluation)."""
        result = self._services.billing.month(actor, month)
        return result, self._services.closing.check(actor, month, result.rows)

    def forget_person(self) -> None:
        """Another person signs in: the last one's search and chosen row do not carry over."""
        self.search_field.clear()
        super().forget_person()

    def clear(self) -> None:
        super().clear()
        self._show_month_state(None)
        self._show_bill_check(None)

    def _loaded(self, loaded: tuple[BillingMonth, BillCheck]) -> None:
        result, check = loaded
        self.month = result
        self.model.set_rows(result.rows, result.claims)
        self._show_status(result)
        self._show_bill_check(check)

    def _show_status(self, result: BillingMonth) -> None:
        self._show_month_state(result.month)
        self.status_label.setText(
            f"{month_label(result.month)} · {len(result.rows):,} enrolled or active patients · "
            f"{result.billable:,} billable · {dollars(result.amount_cents)} expected"
        )

    def _failed(self, error: BaseException) -> None:
        self._show_bill_check(None)
        super()._failed(error)

    # --- filter, search, selection --------------------------------------------------------------

    def _on_filter(self, _index: int) -> None:
        self.model.set_filter(str(self.filter_box.currentData()))

    def _on_search(self, text: str) -> None:
        self.model.set_search(text)

    def _after_reset(self) -> None:
        shown = self.model.shown()
        self.totals_label.setText(totals_text(shown))
        gains = gains_text(switch_gains(row.result for row in shown))
        self.gains_label.setText(gains)
        self.gains_label.setVisible(bool(gains))
        row = self.model.row_of(self._selected) if self._selected else -1
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, PATIENT))
        elif self._kept is not None:
            # A row just changed in a dialog and the filter hides it now: keep explaining it.
            self.details.show_row(self._kept, False, hidden=True)
        else:
            self.details.show_row(None)

    def _show_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.row_at(current.row())
        self._selected = row.mrn
        month = self.month
        if month is None:
            self.details.show_row(row)
            return
        self.details.show_row(
            row,
            month.can_switch_family(row),
            month.switch_family_refusal(row),
            claim=self.model.claim(row),
        )

    def current_row(self) -> BillingRow | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    # --- changes --------------------------------------------------------------------------------

    def loaded_row(self, mrn: str) -> BillingRow | None:
        """The patient's row in the month on screen, shown or hidden by the filter."""
        if self.month is None:
            return None
        return next((row for row in self.month.rows if row.mrn == mrn), None)

    def edit_facts(self, mrn: str) -> QWidget | None:
        """The facts of the month on screen (never of a month still loading)."""
        from ccmdesk.ui.month_facts import MonthFactsDialog

        row = self.loaded_row(mrn)
        if row is None:
            return None
        month = row.result.month
        try:
            facts = self._services.month_facts.for_edit(self._actor(), mrn, month)
        except Exception as error:
            show_failure(self, error)
            return None
        dialog = MonthFactsDialog(self._services, self._actor, row, facts, self)
        dialog.saved.connect(self._row_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def switch_family(self, mrn: str) -> QWidget | None:
        from ccmdesk.ui.month_facts import FamilyDialog

        row = self.loaded_row(mrn)
        if row is None:
            return None
        dialog = FamilyDialog(self._services, self._actor, row, self)
        dialog.saved.connect(self._row_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def change_program(self, mrn: str) -> QWidget | None:
        """The patient's program from the month on screen on (ui/programs.ProgramDialog)."""
        from ccmdesk.ui.programs import ProgramDialog

        row = self.loaded_row(mrn)
        if row is None:
            return None
        dialog = ProgramDialog(self._services, self._actor, row, self)
        dialog.saved.connect(self._row_changed)
        dialog.saved.connect(lambda _row: self.patients_changed.emit())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _row_changed(self, row: BillingRow) -> None:
        if self.month is None or self.month.month != row.result.month:
            return  # another month is on screen (or loading) now
        rows = [row if r.mrn == row.mrn else r for r in self.month.rows]
        self.month = dataclasses.replace(self.month, rows=rows)
        self._selected = row.mrn
        self._kept = row
        self.model.replace_row(row)
        self._kept = None
        self._show_status(self.month)

    # --- closing the month ----------------------------------------------------------------------

    def _show_month_state(self, month: str | None) -> None:
        """Whether the month on screen is closed, and what the signed-in person may do."""
        actor = self._actor()
        state = None
        if month is not None:
            try:
                state = self._services.closing.state(actor, month)
            except ServiceError as error:
                show_failure(self, error)
        self.month_state = state
        if state is not None and state.closed:
            last = state.closings[0]
            when = last.closed_at.astimezone(self._services.practice_zone())
            self.closed_label.setText(f"Closed for billing on {when:%d %b %Y} by {last.closed_by}")
        else:
            self.closed_label.setText("")
        self.export_button.setVisible(allowed(actor, Permission.EXPORT))
        self.export_button.setEnabled(state is not None)
        self.close_button.setVisible(allowed(actor, Permission.CLOSE_MONTH))
        # The service's flag and sentence: the rule closing itself obeys.
        self.close_button.setEnabled(state is not None and state.can_close)
        self.close_button.setToolTip(state.close_refusal if state is not None else "")
        self.reopen_button.setVisible(allowed(actor, Permission.REOPEN_MONTH))
        self.reopen_button.setEnabled(state is not None and state.closed)
        self.waivers_button.setVisible(allowed(actor, Permission.MANAGE_WAIVERS))

    def _show_bill_check(self, check: BillCheck | None) -> None:
        self.bill_check = check
        wrong = check is not None and not check.ok
        lines = []
        if check is not None and wrong:
            lines.append(check.message()[:1].upper() + check.message()[1:] + ".")
            zone = self._services.practice_zone()
            for flag in check.flags[:6]:
                when = flag.raised_at.astimezone(zone)
                lines.append(
                    f"• {flag.patient_name} (MRN {flag.mrn}): {flag.why} "
                    f"({flag.raised_by}, {when:%Y-%m-%d %H:%M})"
                )
            if len(check.flags) > 6:
                lines.append(f"• and {len(check.flags) - 6} more")
        self.drift_label.setText("\n".join(lines))
        self.drift_label.setVisible(wrong)
        may = allowed(self._actor(), Permission.CLOSE_MONTH)
        self.acknowledge_button.setVisible(wrong and may)

    def acknowledge_changes(self) -> QDialog | None:
        """Billing takes note of what changed in a billed month, with a reason."""
        if self.month is None or self.bill_check is None or self.bill_check.ok:
            return None
        month = self.month.month
        return ask_reason(
            self,
            "Acknowledge changes to a billed month",
            f"{self.drift_label.text()}\n\nAcknowledge once the claims are put right (or "
            "found right); a closed month then keeps today's bill as its own. Say what was "
            "done; the audit trail keeps it.",
            "Acknowledge",
            lambda reason: self._change(
                lambda: self._services.closing.acknowledge(self._actor(), month, reason)
            ),
        )

    def export_month(self, folder: Path | None = None) -> QDialog | None:
        """The export dialog for the month on screen (default folder: ~/ccmdesk exports/M)."""
        from ccmdesk.ui.export_dialog import ExportDialog

        if self.month is None or not self.export_button.isEnabled():
            return None
        month = self.month.month
        target = folder or Path.home() / "ccmdesk exports" / month
        dialog = ExportDialog(self._services, self._actor, month, target, self._runner, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # The claims it sent read "Sent (file)" in the Claim column from now on.
        dialog.exported.connect(lambda _result: self.reload())
        dialog.open()
        return dialog

    def close_month(self) -> QDialog | None:
        """Confirm, then close the month on screen for the whole practice."""
        if self.month is None or not self.close_button.isEnabled():
            return None
        month = self.month
        billable = [r for r in month.rows if r.result.billable]
        unsigned = sum(1 for r in billable if not r.result.signed)
        text = (
            f"Close {month_label(month.month)} for billing?\n\n"
            f"{len(billable):,} billable patients, {dollars(month.amount_cents)} expected"
            + (f"; {unsigned:,} of them not signed yet" if unsigned else "")
            + ".\n\nOnce closed, no time, month facts or signatures in "
            f"{month_label(month.month)} change for any patient until an administrator "
            "reopens it. Close it after its export has gone to billing."
        )
        chosen = month.month
        return ask(
            self, "closeMonthDialog", "Close the month", text,
            f"Close {month_label(chosen)}", lambda: self._close(chosen),
        )  # fmt: skip

    def _close(self, month: str) -> None:
        self._change(lambda: self._services.closing.close(self._actor(), month))

    def reopen_month(self) -> QDialog | None:
        if self.month is None or not self.reopen_button.isEnabled():
            return None
        month = self.month.month
        return ask_reason(
            self,
            "Reopen a closed month",
            f"Reopening {month_label(month)} lets its time, month facts and signatures change "
            "again. Say why; the audit trail keeps it.",
            "Reopen",
            lambda reason: self._change(
                lambda: self._services.closing.reopen(self._actor(), month, reason)
            ),
        )
