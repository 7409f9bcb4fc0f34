"""Command-line entry points (the top layer: argv, exit statuses, stdout)."""
