"""The program rules: which period is in force in a month, and what a change must say."""

from __future__ import annotations

from ccmdesk.rules.programs import ProgramChoice, in_force, program_choice


def test_the_period_in_force_is_the_latest_started_one() -> None:
    periods = [ProgramChoice("2026-05", "ccm"), ProgramChoice("", "apcm"),
               ProgramChoice("2026-02", "pcm_focus", "I10")]  # fmt: skip
    assert in_force(periods, "2026-01").program == "apcm"
    assert in_force(periods, "2026-02").program == "pcm_focus"
    assert in_force(periods, "2026-04").program == "pcm_focus"
    assert in_force(periods, "2026-05").program == "ccm"
    assert in_force([], "2026-05") == ProgramChoice("", "ccm")


def test_a_choice_is_read_and_checked_against_the_conditions() -> None:
    choice, errors = program_choice(" PCM_Focus ", "2026-03", "e119", ["E11.9", "I10"])
    assert (choice, errors) == (ProgramChoice("2026-03", "pcm_focus", "E11.9"), [])
    choice, errors = program_choice("apcm", "", None, [])
    assert (choice, errors) == (ProgramChoice("", "apcm"), [])
    _, errors = program_choice("pcm_focus", "2026-13", "I10", ["E11.9"])
    assert [e.field for e in errors] == ["program_from", "focus_condition"]
