"""Where a step's inputs come from: the datasets a session is given, parameters files,
files shipped beside a config, the outputs of upstream steps, and broken forms of data."""
