"""Stage 3: what each page shows and its rendering, unit by unit, with the keys of the files."""
