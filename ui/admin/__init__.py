"""Setting the counter up, inside the settings area: the gift catalogue, the member tiers and the staff accounts.
Each screen offers only what the operator's role may do; the services refuse the rest whatever the screen offers."""
