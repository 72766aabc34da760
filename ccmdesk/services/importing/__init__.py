"""CSV import: a shared core and one importer per kind of file."""
