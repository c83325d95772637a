"""The CLI's two consoles: results on stdout, errors and progress on stderr."""

from rich.console import Console

out = Console()
err = Console(stderr=True)
