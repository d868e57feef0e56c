"""Outputs compared: with the golden values stored for a container x model x dataset
(matches-baseline, resource profiles) and between two runs of one task (deterministic)."""
