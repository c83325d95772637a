"""``python -m owstream.cli``: what ``owstream up`` runs its parts with."""

from owstream.cli.main import main

main()
