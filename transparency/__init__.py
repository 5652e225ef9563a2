"""Audit and transparency: the award register, histories, flags, the
local-spend dashboard and the open-data exports. Read-only pages for a
council's auditors (and its administrators)."""
