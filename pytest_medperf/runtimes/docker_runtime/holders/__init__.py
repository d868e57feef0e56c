"""Network holders: `sleep` containers with no network whose namespace task containers
join, so the kit can watch them (pool.py lends them, holder.py is one, early.py starts the
first before docker-py loads)."""
