"""The care desk's screens: complaints (entry, list, workflow, analysis), follow-ups and surveys."""
