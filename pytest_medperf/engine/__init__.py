"""The session's engine: configs, where inputs come from, the step graph, the scheduler
that runs steps once each, run results, the sandbox and Ctrl-C's path. No pytest here."""
