"""The session's engine: configs, inputs, the step graph and the executor that runs it."""
