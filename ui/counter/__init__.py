"""The counter page (收银台): look a member up, see them at a glance, act with function keys
(docs/ARCHITECTURE.md §5)."""
