"""Running steps: each once, dependencies first, up to --medperf-jobs at once in threads
(scheduler on top of a generic work pool; once: a value per key made once)."""
