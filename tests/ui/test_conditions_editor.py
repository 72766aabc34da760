"""The chronic-conditions editor: ICD-10-CM search, add, remove, and the claim order."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from ccmdesk.ui.conditions import ConditionsEditorWidget


@pytest.fixture
def editor(qtbot) -> ConditionsEditorWidget:
    editor = ConditionsEditorWidget()
    qtbot.addWidget(editor)
    editor.show()
    return editor


def result_texts(editor: ConditionsEditorWidget) -> list[str]:
    return [editor.results.item(r).text() for r in range(editor.results.count())]


def list_texts(editor: ConditionsEditorWidget) -> list[str]:
    return [editor.list.item(r).text() for r in range(editor.list.count())]


def test_typing_words_searches_icd10_after_a_pause(qtbot, editor) -> None:
    qtbot.keyClicks(editor.search_field, "type 2 diabetes without complications")
    qtbot.waitUntil(lambda: editor.results.count() > 0)
    assert "E11.9 — Type 2 diabetes mellitus without complications" in result_texts(editor)
    assert editor.results.isVisible()


def test_searching_by_code_prefix_lists_codes_below_it(editor) -> None:
    editor.search_field.setText("I50.2")
    editor.search_now()
    codes = [t.split(" — ")[0] for t in result_texts(editor)]
    assert codes[:3] == ["I50.20", "I50.21", "I50.22"]


def test_enter_adds_a_complete_code_and_clears_the_search(qtbot, editor) -> None:
    changes: list[bool] = []
    editor.changed.connect(lambda: changes.append(True))
    qtbot.keyClicks(editor.search_field, "e119")
    qtbot.keyClick(editor.search_field, Qt.Key.Key_Return)
    assert editor.codes() == ["E11.9"]
    assert list_texts(editor) == ["1.  E11.9 — Type 2 diabetes mellitus without complications"]
    assert editor.search_field.text() == ""
    assert changes


def test_arrow_keys_choose_a_result_and_enter_adds_it(qtbot, editor) -> None:
    editor.search_field.setText("essential hypertension")
    editor.search_now()
    assert result_texts(editor)[0] == "I10 — Essential (primary) hypertension"
    qtbot.keyClick(editor.search_field, Qt.Key.Key_Down)
    qtbot.keyClick(editor.search_field, Qt.Key.Key_Return)
    assert editor.codes() == ["I10"]


def test_the_add_button_and_double_click_add_the_chosen_result(qtbot, editor) -> None:
    editor.search_field.setText("hyperlipidemia, unspecified")
    editor.search_now()
    editor.results.setCurrentRow(0)
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.codes() == ["E78.5"]
    editor.search_field.setText("I10")
    editor.search_now()
    editor.results.itemDoubleClicked.emit(editor.results.item(0))
    assert editor.codes() == ["E78.5", "I10"]


def test_enter_on_a_category_explains_instead_of_guessing(qtbot, editor) -> None:
    qtbot.keyClicks(editor.search_field, "E11")
    qtbot.keyClick(editor.search_field, Qt.Key.Key_Return)
    assert editor.codes() == []
    assert "'E11' is a category, not a billable code" in editor.note.text()
    assert editor.search_field.text() == "E11"  # kept, to be refined


def test_a_code_already_listed_is_not_added_twice(editor) -> None:
    editor.set_codes(["I10"])
    assert editor.add_code("i10") is False
    assert editor.codes() == ["I10"]
    assert editor.note.text() == "I10 is already listed."


def test_no_match_says_so(editor) -> None:
    editor.search_field.setText("xylophone")
    editor.search_now()
    assert editor.results.count() == 0
    assert editor.note.text() == "No billable ICD-10-CM code matches 'xylophone'."


def test_remove_and_move_up_and_down_change_the_claim_order(qtbot, editor) -> None:
    editor.set_codes(["E11.9", "I10", "E78.5"])
    editor.list.setCurrentRow(2)
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.codes() == ["E11.9", "E78.5", "I10"]
    qtbot.mouseClick(editor.up_button, Qt.MouseButton.LeftButton)
    assert editor.codes() == ["E78.5", "E11.9", "I10"]
    assert not editor.up_button.isEnabled()  # already first
    assert list_texts(editor)[0].startswith("1.  E78.5 — ")
    qtbot.mouseClick(editor.down_button, Qt.MouseButton.LeftButton)
    assert editor.codes() == ["E11.9", "E78.5", "I10"]
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.codes() == ["E11.9", "I10"]
    assert list_texts(editor) == [
        "1.  E11.9 — Type 2 diabetes mellitus without complications",
        "2.  I10 — Essential (primary) hypertension",
    ]


def test_a_code_not_in_the_code_set_is_kept_and_flagged(editor) -> None:
    editor.set_codes(["E11.9", "ZZZ.99"])
    assert editor.codes() == ["E11.9", "ZZZ.99"]
    text = list_texts(editor)[1]
    assert text.startswith("2.  ZZZ.99 — ") and "not an ICD-10-CM code" in text


def test_read_only_hides_the_search_and_the_buttons(editor) -> None:
    editor.set_codes(["I10"])
    editor.set_read_only(True)
    assert not editor.search_field.isVisible()
    assert not editor.remove_button.isVisible()
    assert editor.codes() == ["I10"]
