"""`python -m cli …`: the same as the installed `hotspots` command."""

from cli.main import main

main(prog_name="hotspots")
