"""`python -m scanner.cli`: the same as the `scanner` command."""

from scanner.cli import main

main()
