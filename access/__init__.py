"""Who may see and change what: roles, the signed-in principal, restricted categories,
local accounts and the append-only audit log. The library functions call these; the app and
the CLI only say who is acting."""
