"""Member numbers: the store's own are `MD` and the member's id in eight digits, made here and nowhere else. A
member number brought from an old system (an import) is kept as it was."""

from __future__ import annotations


def member_no_for(member_id: int) -> str:
    return f"MD{member_id:08d}"
