"""The kit's options: declared as data (table.py), read once into one frozen Settings
(settings.py, with values.py the only reader of pytest's options and ini settings)."""
