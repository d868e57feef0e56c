"""Collection: a config file becomes items (config-level items, and the rules on each
step's run); what every item shares is in items.py."""
