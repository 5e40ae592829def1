"""The service desk side of a demo store: complaints with their status history, and follow-up tasks.

Few rows (a few per thousand members), so they go through SQLAlchemy Core with the models' own types."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.demo.catalog import COMPLAINT_CHANNELS, COMPLAINTS
from app.demo.history import uuid4_text
from app.demo.shop import Shop
from db.enums import ComplaintSeverity, ComplaintStatus, TaskStatus
from db.models import Complaint, ComplaintEvent, FollowUpTask

HOUR = 3600
DAY = 86400
RESPONSE_DAYS = {ComplaintSeverity.HIGH: 1, ComplaintSeverity.MEDIUM: 3, ComplaintSeverity.LOW: 7}


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def add_service_desk(
    session: Session, seed: int, shop: Shop, candidates: list[tuple[int, int, int, int]], now: int
) -> tuple[int, int]:
    """Complaints about some purchases (old ones closed, recent ones still open) and the tasks they led to.
    Returns (complaints, tasks)."""
    rng = random.Random(f"{seed}:service-desk")
    complaints: list[dict[str, Any]] = []
    history: list[list[tuple[ComplaintStatus | None, ComplaintStatus, int, str]]] = []
    for member_id, sale_id, branch_id, sold_at in candidates:
        category, subject, severity_text = COMPLAINTS[int(rng.random() * len(COMPLAINTS))]
        severity = ComplaintSeverity(severity_text)
        created = min(now - HOUR, sold_at + HOUR + int(rng.random() * 2 * DAY))
        age_days = (now - created) / DAY
        staff = shop.counter_staff[branch_id][0]
        steps: list[tuple[ComplaintStatus | None, ComplaintStatus, int, str]] = [
            (None, ComplaintStatus.OPEN, created, "顾客反映：" + subject)
        ]
        if age_days > 1 or rng.random() < 0.5:
            steps.append(
                (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, created + 2 * HOUR, "店长已联系顾客，正在核实")
            )
        if age_days > 7 or (age_days > 3 and rng.random() < 0.6):
            resolved = created + DAY + int(rng.random() * 2 * DAY)
            steps.append(
                (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, resolved, "已退换并致歉，顾客表示满意")
            )
            if rng.random() < 0.75:
                steps.append((ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED, resolved + DAY, "回访确认，结案"))
        status = steps[-1][1]
        resolved_at = next((at for _, to, at, _ in steps if to == ComplaintStatus.RESOLVED), None)
        complaints.append(
            {
                "client_uuid": uuid4_text(rng.getrandbits(128)),
                "member_id": member_id,
                "branch_id": branch_id,
                "channel": COMPLAINT_CHANNELS[int(rng.random() * len(COMPLAINT_CHANNELS))],
                "category": category,
                "severity": severity,
                "status": status,
                "subject": subject,
                "description": f"{subject}（小票对应销售 {sale_id}）",
                "sale_id": sale_id,
                "assigned_to_id": shop.manager_id,
                "created_by_id": staff,
                "created_at": _moment(created),
                "due_at": _moment(created + RESPONSE_DAYS[severity] * DAY),
                "resolved_at": None if resolved_at is None else _moment(resolved_at),
            }
        )
        history.append(steps)
    if not complaints:
        return 0, 0
    ids = session.scalars(insert(Complaint).returning(Complaint.id, sort_by_parameter_order=True), complaints).all()
    events: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for complaint_id, complaint, steps in zip(ids, complaints, history, strict=True):
        for before, after, at, note in steps:
            events.append(
                {
                    "complaint_id": complaint_id,
                    "from_status": before,
                    "to_status": after,
                    "note": note,
                    "staff_id": complaint["created_by_id"] if before is None else shop.manager_id,
                    "created_at": _moment(at),
                }
            )
        if complaint["status"] in (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS):
            tasks.append(
                _task(
                    rng,
                    shop,
                    complaint["branch_id"],
                    "回访顾客：" + complaint["subject"],
                    steps[-1][2],
                    complaint["due_at"],
                )
                | {"member_id": complaint["member_id"], "complaint_id": complaint_id}
            )
    hq = shop.branch_ids[0]
    tasks.append(_task(rng, shop, hq, "电话回访近 90 天未到店的金卡会员", now, _moment(now + 3 * DAY)))
    tasks.append(_task(rng, shop, hq, "核对积分礼品库存并补货", now, _moment(now + 7 * DAY)))
    session.execute(insert(ComplaintEvent), events)
    session.execute(insert(FollowUpTask), tasks)
    return len(complaints), len(tasks)


def _task(rng: random.Random, shop: Shop, branch_id: int, title: str, created: int, due: dt.datetime) -> dict[str, Any]:
    return {
        "client_uuid": uuid4_text(rng.getrandbits(128)),
        "member_id": None,
        "complaint_id": None,
        "branch_id": branch_id,
        "title": title,
        "due_at": due,
        "status": TaskStatus.OPEN,
        "assigned_to_id": shop.manager_id,
        "created_by_id": shop.manager_id,
        "created_at": _moment(created),
    }
