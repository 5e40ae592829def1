"""From a set of members to an action: a coupon campaign for exactly them, follow-up tasks, a contact list."""
