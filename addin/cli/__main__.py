"""`python -m addin.cli` runs the command line."""

from addin.cli import main

main()
