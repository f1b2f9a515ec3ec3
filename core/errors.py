"""One base for every error a person can put right (a bad file, a wrong name, a date in the
future, an action their role does not allow): the app shows its message, the command line
prints it and exits 1, and neither catches anything else as if it were the user's fault."""


class UserError(Exception):
    """Something the person asked for cannot be done as asked; the message says why in their
    words."""
