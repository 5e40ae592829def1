"""Screens of the trust area: the audit log, backups and restores, members' privacy rights."""
