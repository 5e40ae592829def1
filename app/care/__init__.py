"""Complaints, satisfaction surveys and follow-up calls (issue 11): the rules, without Qt."""
