"""Trust: the hash-chained audit log, backups and restores, and members' privacy rights."""
