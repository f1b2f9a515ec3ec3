"""`hotspots users|restricted|audit …`: accounts, roles, restricted categories and the audit
log (the command line acts as the terminal's operator, and every change is in the audit log
under their login)."""

from __future__ import annotations

import json
from datetime import date

import click

from access.roles import ROLES
from cli.common import database, printable, write_output


def _new_password(password: str | None) -> str:
    """The password given, else asked for twice without echo."""
    if password:
        return password
    return click.prompt("Password (at least 12 characters)", hide_input=True,
                        confirmation_prompt=True)


@click.group()
def users() -> None:
    """Who may sign in, and with which role (viewer, analyst, officer, admin)."""


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
def users_list(as_json: bool) -> None:
    """Every user with role, how they sign in, whether active and when last."""
    from access.accounts import list_users

    frame = list_users(database())
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso"))
        return
    for row in frame.to_dict("records"):
        state = "active" if row["active"] else "deactivated"
        last = row["last_sign_in"]
        click.echo(f"{printable(row['username'])}\t{row['role']}\t{row['source']}\t{state}\t"
                   f"last sign-in {last if last is not None and last == last else 'never'}")


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", default="", help="Name shown in the app.")
@click.option("--email", default=None)
@click.option("--oidc", is_flag=True,
              help="Signs in with the council's account (OpenID Connect): no password here.")
@click.option("--password", envvar="HOTSPOTS_NEW_PASSWORD", default=None,
              help="Or HOTSPOTS_NEW_PASSWORD; asked for (hidden) when neither is given.")
def users_add(username: str, role: str, display_name: str, email: str | None, oidc: bool,
              password: str | None) -> None:
    """Add a user with a role."""
    from access.accounts import create_user

    name = create_user(database(), username, role, display_name=display_name, email=email,
                       password=None if oidc else _new_password(password),
                       source="oidc" if oidc else "local")
    click.echo(f"Added {name} as {role}.")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def users_role(username: str, role: str) -> None:
    """Give a user another role."""
    from access.accounts import set_role

    set_role(database(), username, role)
    click.echo(f"{username} is now {role}.")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Stop a user signing in (kept, so the audit log's names keep their meaning)."""
    from access.accounts import set_active

    set_active(database(), username, False)
    click.echo(f"{username} can no longer sign in.")


@users.command("reactivate")
@click.argument("username")
def users_reactivate(username: str) -> None:
    """Let a deactivated user sign in again."""
    from access.accounts import set_active

    set_active(database(), username, True)
    click.echo(f"{username} can sign in again.")


@users.command("password")
@click.argument("username")
@click.option("--password", envvar="HOTSPOTS_NEW_PASSWORD", default=None,
              help="Or HOTSPOTS_NEW_PASSWORD; asked for (hidden) when neither is given.")
def users_password(username: str, password: str | None) -> None:
    """Set a local user's password (it also lifts a lock after wrong passwords and ends the
    user's sessions)."""
    from access.accounts import set_password

    set_password(database(), username, _new_password(password))
    click.echo(f"Password of {username} changed.")


@users.command("unlock")
@click.argument("username")
def users_unlock(username: str) -> None:
    """Let a user locked out after wrong passwords sign in again at once (from every address;
    the password is not changed)."""
    from access.accounts import unlock_user

    lifted = unlock_user(database(), username)
    click.echo(f"{printable(username)} can sign in again." if lifted
               else f"{printable(username)} was not locked out; nothing changed.")


@click.group()
def restricted() -> None:
    """Categories kept from viewers and officers: 'hidden' ones never shown to them, 'ward'
    ones shown only as counts per ward."""


@restricted.command("list")
def restricted_list() -> None:
    """The restricted categories and rules."""
    from access.restricted import list_restricted

    for row in list_restricted(database()).to_dict("records"):
        click.echo(f"{printable(row['pattern'])}\t{row['match']}\t{row['rule']}\t"
                   f"added by {printable(row['added_by'])}")


@restricted.command("add")
@click.argument("category")
@click.option("--rule", type=click.Choice(["hidden", "ward"]), default="hidden",
              show_default=True)
@click.option("--contains", is_flag=True,
              help="Match any category containing these words (default: the whole name).")
def restricted_add(category: str, rule: str, contains: bool) -> None:
    """Restrict a category (or every category containing some words)."""
    from access.restricted import add_restricted

    changed = add_restricted(database(), category, rule, "contains" if contains else "exact")
    click.echo(f"'{printable(category)}' restricted ({rule})." if changed
               else "Already restricted that way; nothing changed.")


@restricted.command("remove")
@click.argument("category")
def restricted_remove(category: str) -> None:
    """Stop restricting a category."""
    from access.restricted import remove_restricted

    if not remove_restricted(database(), category):
        raise click.ClickException(f"'{category}' is not restricted")
    click.echo(f"'{printable(category)}' is no longer restricted.")


@click.command()
@click.option("--entity", default=None, help="Only entries about e.g. user, check, pspo.")
@click.option("--actor", default=None, help="Only entries by this username.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="Write every matching entry to this CSV file instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records.")
def audit(entity: str | None, actor: str | None, since, limit: int, csv_path: str | None,
          as_json: bool) -> None:
    """The audit log: who changed what, when, before and after (reading it is recorded)."""
    from access.audit import audit_csv, read_audit

    day: date | None = since.date() if since else None
    if csv_path:
        data = audit_csv(database(), entity=entity, actor=actor, since=day)
        write_output(csv_path, data)
        click.echo(f"Wrote {csv_path}.")
        return
    frame = read_audit(database(), entity=entity, actor=actor, since=day, limit=limit)
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", default_handler=str))
        return
    for row in frame.to_dict("records"):
        change = ""
        if row["before"] or row["after"]:
            change = f"  before {json.dumps(row['before'], default=str)} after " \
                     f"{json.dumps(row['after'], default=str)}"
        click.echo(f"{row['at']:%Y-%m-%d %H:%M:%S}\t{printable(row['actor'])}\t"
                   f"{printable(row['summary'])}{printable(change)}")




COMMANDS = (users, restricted, audit)
