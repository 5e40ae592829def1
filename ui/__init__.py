"""MemberDesk's PySide6 face over `app/`: windows, pages, dialogs and table models. Nothing here opens a database
session; every service call goes through `ui.tasks` so the counter never freezes."""
