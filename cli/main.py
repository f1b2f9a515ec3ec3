"""The `hotspots` command: one root group holding every command group, a thin layer over the
same library functions as the app."""

from __future__ import annotations

import click

from cli import accounts, analysis, data, problems, pspo, reports, water_safety


class UserErrorGroup(click.Group):
    """Runs every command as the terminal's operator (access.scope.operator) and turns the
    library's refusals (core.errors.UserError) into one-line messages ("Error: …", exit 1),
    never tracebacks."""

    def invoke(self, ctx: click.Context):
        from access.scope import acting_as, operator
        from core.errors import UserError

        try:
            with acting_as(operator()):
                return super().invoke(ctx)
        except UserError as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None


@click.group(cls=UserErrorGroup)
def main() -> None:
    """Crime and ASB hotspots for Community Safety Partnerships."""


for _module in (data, analysis, reports, pspo, water_safety, problems, accounts):
    for _command in _module.COMMANDS:
        main.add_command(_command)
