"""Derive resources/icd10cm/codes.tsv.gz (billable ICD-10-CM codes) from simple_icd_10_cm."""

from __future__ import annotations

import gzip
import importlib.metadata
import io
import sys
import warnings
from pathlib import Path

DIST_NAME = "simple-icd-10-cm"
OUTPUT = Path(__file__).resolve().parent.parent / "resources" / "icd10cm" / "codes.tsv.gz"


def clean_description(text: str) -> str:
    """Collapse whitespace runs to one space.

    The package appends some seventh-character notes with a tab (e.g. H35.3113 ends in
    "involvement/<TAB>advanced dry stage"); a tab or newline would break the TSV format.
    """
    return " ".join(text.split())


def billable_codes() -> list[tuple[str, str]]:
    """Every billable code with its description, sorted by code."""
    # The package emits a DeprecationWarning from importlib.resources on import; it is noise here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

    rows: dict[str, str] = {}
    for code in cm.get_all_codes(True):
        # is_leaf() alone also answers True for a dozen childless block ranges such as "C00-C96",
        # and get_all_codes() lists B20, F99, P84, R99 and Z66 twice (as a block and a category);
        # only categories and subcategories are codes, and the dict drops the duplicates.
        if cm.is_leaf(code) and (cm.is_category(code) or cm.is_subcategory(code)):
            rows[code] = clean_description(cm.get_description(code))
    return sorted(rows.items())


def render(version: str, rows: list[tuple[str, str]]) -> bytes:
    """The gzip bytes of the table; mtime=0 and no file name keep them reproducible."""
    lines = [f"# {DIST_NAME} {version}"]
    for code, description in rows:
        if not description:
            raise ValueError(f"{code} has no description")
        lines.append(f"{code}\t{description}")
    text = "\n".join(lines) + "\n"
    buffer = io.BytesIO()
    # GzipFile rather than gzip.compress: it always writes OS byte 255 and an empty file name,
    # so the bytes do not depend on the platform or the output path.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return buffer.getvalue()


def main() -> int:
    version = importlib.metadata.version(DIST_NAME)
    rows = billable_codes()
    data = render(version, rows)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(data)
    print(f"wrote {OUTPUT} ({len(rows)} codes, {len(data):,} bytes, {DIST_NAME} {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
