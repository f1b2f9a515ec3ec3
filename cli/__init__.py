"""The `hotspots` command line (`python -m cli`): the root group in cli.main, shared helpers
in cli.common and one module per command group. A thin layer over the library: every
refusal the library raises (core.errors.UserError) is printed as one line and exits 1."""
