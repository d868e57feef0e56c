"""What a session writes. Each item makes one typed record (record.py); the session's
findings gather them (session_report.py); the writers side by side read them: the
terminal summary (terminal.py), the JSON report (json_report.py), JUnit properties
(junit.py) and the Markdown summary (markdown.py); matrix.py is the model x dataset view."""
