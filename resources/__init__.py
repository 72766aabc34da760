"""Bundled data files: fonts, icons, stylesheet and the derived ICD-10-CM table."""
