"""Pure rules: validation, ICD-10-CM look-ups and (later) billing; no database and no Qt."""
