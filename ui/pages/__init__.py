"""The main window's screens other than the counter."""
