"""The Docker runtime on docker-py (runner.py), with which engine it talks to (engine.py,
cli_context.py, hosts.py), the container and image operations it needs, and the network
holders that let the kit watch a task (holders/). Named apart from docker-py's `docker`."""
