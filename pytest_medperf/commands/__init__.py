"""`python -m pytest_medperf` commands besides migrate (config/migrate.py): a starter
container (starter.py) and the rule listing (rule_listing.py)."""
