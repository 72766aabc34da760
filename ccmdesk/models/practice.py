"""The practice: one row describing the clinic that bills."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ccmdesk.models.base import Base, UTCDateTime, one_of
from ccmdesk.rules.records import DEFAULT_ACTIVITIES
from ccmdesk.rules.validation import TIN_KINDS, USAGES


class Practice(Base):
    """Practice details printed on claims; a database holds exactly one."""

    __tablename__ = "practice"
    __table_args__ = (
        one_of("date_of_service_rule", ("last_day", "threshold_date"), "dos_rule"),
        one_of("tin_kind", TIN_KINDS),
        one_of("usage", USAGES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # Printed on the care plan's patient copy beside the office number.
    after_hours_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    group_npi: Mapped[str | None] = mapped_column(String(10))
    tin: Mapped[str] = mapped_column(String(10), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    place_of_service: Mapped[str] = mapped_column(String(2), default="11")
    date_of_service_rule: Mapped[str] = mapped_column(String(20), default="last_day")
    # Minutes without keyboard or mouse before a running stopwatch asks about the idle time.
    idle_minutes: Mapped[int] = mapped_column(Integer, default=5)
    # Minutes without keyboard or mouse before the window locks (patient data hidden).
    auto_lock_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # The stop dialog's activity list, one per line, in the order shown.
    activities: Mapped[str] = mapped_column(Text, default="\n".join(DEFAULT_ACTIVITIES))
    # The statement a practitioner signs each monthly summary with; empty: the default.
    attestation: Mapped[str] = mapped_column(Text, default="")

    # The address as parts, as claims carry it (boxes 32 and 33, loop 2010AA); `address`
    # stays the printed address.
    street: Mapped[str] = mapped_column(String(200), default="", server_default="")
    city: Mapped[str] = mapped_column(String(100), default="", server_default="")
    state: Mapped[str] = mapped_column(String(2), default="", server_default="")
    zip: Mapped[str] = mapped_column(String(10), default="", server_default="")
    tin_kind: Mapped[str] = mapped_column(String(3), default="ein", server_default="ein")
    accept_assignment: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    taxonomy: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # Whether the practice collects the release and assignment signature at registration;
    # a patient's own signature_on_file overrides it (docs/payers.md).
    collects_signature: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # The clearinghouse settings of the 837P (loops 1000A and 1000B, the ISA envelope).
    submitter_id: Mapped[str] = mapped_column(String(80), default="", server_default="")
    submitter_name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    submitter_phone: Mapped[str] = mapped_column(String(20), default="", server_default="")
    receiver_id: Mapped[str] = mapped_column(String(80), default="", server_default="")
    receiver_name: Mapped[str] = mapped_column(String(60), default="", server_default="")
    isa_qualifier: Mapped[str] = mapped_column(String(2), default="ZZ", server_default="ZZ")
    isa_id: Mapped[str] = mapped_column(
        String(15), default="", server_default=""
    )  # blank: submitter
    usage: Mapped[str] = mapped_column(String(1), default="T", server_default="T")
    # The last interchange control number used (ISA13, GS06, ST02); one step per claim file.
    control_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A billing practitioner's attestation that the 13 APCM service elements are available and
    # the quality-reporting condition is met; none: APCM months are blocked
    # (docs/billing-rules.md, "APCM").
    apcm_attested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    apcm_attested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Reminders (docs/reminders.md): the kinds turned off for everyone (space-separated keys of
    # catalog.REMINDER_KINDS), the running-stopwatch limit, how long someone is active in
    # ccmdesk with no stopwatch before "timing a call?", and the working day (minutes after
    # local midnight) inside which that nudge and the morning reminder are raised.
    reminders_off: Mapped[str] = mapped_column(Text, default="", server_default="")
    stopwatch_limit_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    nudge_after_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    workday_start_minute: Mapped[int] = mapped_column(Integer, default=480, server_default="480")
    workday_end_minute: Mapped[int] = mapped_column(Integer, default=1020, server_default="1020")
