"""What a session writes: the JSON report and the terminal table (report.py), the
model x dataset view (matrix.py)."""
