"""The care desk of a demo store: two years of returned satisfaction surveys, and complaints that were reopened.

Survey forms are printed each month at every branch and about two in three come back; satisfaction improves a little
over the two years and dips in the busy Spring Festival month, so the trend charts have a story to tell. Forms are
anonymous (handed out at the till), so no survey reward is owed. Rows go in with Core inserts, like desk.py's.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from app.care.surveys import form_number
from app.demo.history import uuid4_text
from app.demo.shop import Shop
from db.enums import ComplaintSeverity, ComplaintStatus, FormStatus
from db.models import Complaint, ComplaintEvent, SurveyForm, SurveyResponse, SurveyTemplate

DAY = 86400
FORMS_PER_BRANCH_MONTH = 30
RETURNED = 0.65
COMMENTS = (
    "希望增加进口水果的品种",
    "收银员很热情，点赞",
    "周末排队时间太长了",
    "生鲜区很干净",
    "希望会员日折扣再多一点",
    "停车不太方便",
    "面包很新鲜，每次都买",
    "希望营业时间延长到晚上十点",
)
REOPENED = (
    ("退换的商品又有问题", "商品质量", ComplaintSeverity.MEDIUM),
    ("积分补偿没有到账", "积分问题", ComplaintSeverity.LOW),
    ("电话投诉：送货迟到两小时", "服务态度", ComplaintSeverity.HIGH),
)


def _moment(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def add_care_history(session: Session, seed: int, shop: Shop, now: int, days: int) -> tuple[int, int]:
    """Returns (survey responses, reopened complaints). A forced second demo on the same store draws other ids."""
    earlier = session.scalar(select(func.count()).select_from(SurveyForm)) or 0
    rng = random.Random(f"{seed}:care:{earlier}")
    return _surveys(session, rng, shop, now, days), _reopened(session, rng, shop, now)


def _answers(rng: random.Random, mood: float) -> dict[str, Any]:
    """One customer's answers; `mood` from about -1 (unhappy month) to 1 (good month)."""

    def rating() -> int:
        return max(1, min(5, round(rng.gauss(3.9 + 0.5 * mood, 0.9))))

    answers: dict[str, Any] = {
        key: rating() for key in ("quality", "range", "price", "service", "checkout", "clean") if rng.random() < 0.97
    }
    answers["nps"] = max(0, min(10, round(rng.gauss(7.6 + 1.2 * mood, 2.0))))
    answers["visits"] = "ABCD"[min(3, int(rng.random() ** 1.5 * 4))]
    answers["buys"] = sorted(rng.sample("ABCDE", 1 + int(rng.random() * 3)))
    if rng.random() < 0.2:
        answers["comment"] = rng.choice(COMMENTS)
    return answers


def _surveys(session: Session, rng: random.Random, shop: Shop, now: int, days: int) -> int:
    template_id = session.scalar(
        select(SurveyTemplate.id).where(SurveyTemplate.code == "SAT").order_by(SurveyTemplate.version).limit(1)
    )
    if template_id is None:
        return 0
    last = session.scalar(select(func.max(SurveyForm.form_no)).where(SurveyForm.form_no.like("SV%")))
    serial = int(last[2:10]) if last else 0
    forms: list[dict[str, Any]] = []
    answered: list[tuple[int, dict[str, Any], int, int]] = []  # form index, answers, branch, answered at
    start = now - days * DAY
    for month_start in range(start, now - 7 * DAY, 30 * DAY):
        progress = (month_start - start) / max(1, now - start)
        festival = _moment(month_start).month == 2
        mood = -0.4 + 0.9 * progress - (0.6 if festival else 0) + rng.gauss(0, 0.15)
        for branch in shop.branch_ids:
            printed_at = month_start + int(rng.random() * 3 * DAY)
            batch = f"demo-{_moment(printed_at):%Y%m}-{branch}"
            for _ in range(FORMS_PER_BRANCH_MONTH):
                serial += 1
                index = len(forms)
                returned = rng.random() < RETURNED
                forms.append(
                    {
                        "form_no": form_number(serial),
                        "template_id": template_id,
                        "member_id": None,
                        "branch_id": branch,
                        "batch": batch,
                        "status": FormStatus.RETURNED if returned else FormStatus.PRINTED,
                        "printed_at": _moment(printed_at),
                    }
                )
                if returned:
                    at = min(now - DAY, printed_at + int(rng.random() * 25 * DAY))
                    answered.append((index, _answers(rng, mood), branch, at))
    if not forms:
        return 0
    ids = session.scalars(insert(SurveyForm).returning(SurveyForm.id, sort_by_parameter_order=True), forms).all()
    responses = []
    for index, answers, branch, at in answered:
        uid = uuid4_text(rng.getrandbits(128))
        responses.append(
            {
                "client_uuid": uid,
                "idempotency_key": uid,
                "template_id": template_id,
                "form_id": ids[index],
                "member_id": None,
                "branch_id": branch,
                "answers": answers,
                "score": answers["nps"],
                "reward_points": 0,
                "entered_by_id": shop.counter_staff[branch][0],
                "answered_at": _moment(at),
                "created_at": _moment(at + 3600),
            }
        )
    session.execute(insert(SurveyResponse), responses)
    return len(responses)


def _reopened(session: Session, rng: random.Random, shop: Shop, now: int) -> int:
    """Complaints that came back after they were closed or resolved: reopened and being handled again."""
    made = 0
    for offset, (subject, category, severity) in enumerate(REOPENED):
        branch = shop.branch_ids[offset % len(shop.branch_ids)]
        created = now - (12 + 3 * offset) * DAY
        staff = shop.counter_staff[branch][0]
        steps = [
            (None, ComplaintStatus.OPEN, created, subject, staff),
            (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, created + 3 * 3600, "店长已联系顾客", shop.manager_id),
            (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, created + 2 * DAY, "已处理并致歉", shop.manager_id),
            (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED, created + 3 * DAY, "回访确认，结案", shop.manager_id),
            (ComplaintStatus.CLOSED, ComplaintStatus.OPEN, now - (2 + offset) * DAY, "顾客再次反映，重新处理", staff),
        ]
        if offset == 0:
            steps.append((ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, now - DAY, "已安排换货", shop.manager_id))
        complaint_id = session.scalar(
            insert(Complaint)
            .values(
                client_uuid=uuid4_text(rng.getrandbits(128)),
                member_id=None,
                branch_id=branch,
                channel="phone" if offset == 2 else "counter",
                category=category,
                severity=severity,
                status=steps[-1][1],
                subject=subject,
                description=subject,
                assigned_to_id=shop.manager_id,
                created_by_id=staff,
                created_at=_moment(created),
                due_at=_moment(steps[4][2] + 2 * DAY),
                resolved_at=None,
                resolution="已处理并致歉",
            )
            .returning(Complaint.id)
        )
        session.execute(
            insert(ComplaintEvent),
            [
                {
                    "complaint_id": complaint_id,
                    "from_status": before,
                    "to_status": after,
                    "note": note,
                    "staff_id": who,
                    "created_at": _moment(at),
                }
                for before, after, at, note, who in steps
            ],
        )
        made += 1
    return made
