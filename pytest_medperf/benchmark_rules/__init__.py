"""A benchmark owner's own rules: the public API (api.py: `rule`, `RuleFailed`, the
`TaskRun` view, re-exported by pytest_medperf) and where rules are found (finder.py)."""
