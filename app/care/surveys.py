"""Survey templates (versioned), printed numbered forms, fast entry of returned forms, and the results.

A form number is `SV`, an 8-digit serial and a Luhn check digit (`SV000001234`): a mistyped digit or a scanned
coupon or member card is recognised as "not a survey form" before the database is asked. A form is answered at
most once (a unique index backs it); the reward for a member's form is posted with the response, keyed on the form.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.care import points
from app.care.questions import Answer, Question, QuestionKind, csat, mean, nps, parse_answers, validate_questions
from app.care.settings import read_care_settings
from app.changes import Changes
from app.clock import Clock
from app.errors import ConflictError, NotFoundError, ValidationError
from app.i18n import QT_TRANSLATE_NOOP as S
from app.i18n import translate
from app.members.validation import luhn_check_digit
from app.security.operator import Operator, require_role
from app.settings import read_settings
from app.trust.audit import record_audit
from db.engine import Database
from db.enums import FormStatus, MemberStatus, StaffRole
from db.models import Branch, Member, Staff, SurveyForm, SurveyResponse, SurveyTemplate

FORM_PREFIX = "SV"
FORM_NO = re.compile(r"SV\d{9}")
MAX_FORMS = 5000
TEXT_ANSWERS = 200
_CODE = re.compile(r"[A-Z0-9_-]{1,20}")


def form_number(serial: int) -> str:
    body = f"{serial:08d}"
    return f"{FORM_PREFIX}{body}{luhn_check_digit(body)}"


def parse_form_number(raw: str) -> str:
    """A typed or scanned form number, checked; anything else is refused as not a survey form."""
    value = raw.strip().upper().replace(" ", "")
    if not FORM_NO.fullmatch(value) or luhn_check_digit(value[2:10]) != value[10]:
        raise ValidationError(
            S("Errors", "{code} is not a survey form number (SV and 9 digits)."), field="form_no", code=raw.strip()
        )
    return value


@dataclass(frozen=True)
class TemplateInfo:
    id: int
    code: str
    version: int
    title: str
    title_en: str
    description: str
    questions: tuple[Question, ...]
    active: bool
    forms: int = 0
    responses: int = 0

    def shown_title(self, english: bool) -> str:
        return (self.title_en or self.title) if english else self.title


@dataclass(frozen=True)
class TemplateDraft:
    code: str
    title: str
    questions: Sequence[Question]
    title_en: str = ""
    description: str = ""


@dataclass(frozen=True)
class TemplateSaved:
    template: TemplateInfo
    new_version: bool
    changes: Changes = Changes.SURVEYS


@dataclass(frozen=True)
class PrintedForm:
    form_no: str
    card_no: str | None
    member_name: str | None


@dataclass(frozen=True)
class FormBatch:
    batch: str
    store_name: str
    template: TemplateInfo
    forms: tuple[PrintedForm, ...]
    changes: Changes = Changes.SURVEYS


@dataclass(frozen=True)
class FormToEnter:
    form_no: str
    template: TemplateInfo
    member_no: str | None
    member_name: str | None
    reward_points: int


@dataclass(frozen=True)
class ResponseSaved:
    response_id: int
    form_no: str
    reward_points: int
    changes: Changes


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int
    distribution: dict[str, int]
    """Answer → count: "1".."5", "0".."10", or the choice letter."""
    csat: float | None = None
    nps: float | None = None
    mean: float | None = None
    texts: list[tuple[dt.datetime, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PeriodFigures:
    label: str
    responses: int
    csat: float | None
    nps: float | None


@dataclass(frozen=True)
class SurveyResults:
    template: TemplateInfo
    responses: int
    csat: float | None
    """All rating answers of all rating questions together."""
    nps: float | None
    questions: list[QuestionResult]
    trend: list[PeriodFigures]
    branches: list[PeriodFigures]


# Built once: an entry is made a hundred times in a row, and building these statements costs more than running them.
_INSERT_RESPONSE = insert(SurveyResponse).returning(SurveyResponse.id)
_FORM_RETURNED = update(SurveyForm).where(SurveyForm.id == bindparam("form_id")).values(status=FormStatus.RETURNED)


def _info(template: SurveyTemplate, forms: int = 0, responses: int = 0) -> TemplateInfo:
    return TemplateInfo(
        template.id,
        template.code,
        template.version,
        template.title,
        template.title_en or "",
        template.description or "",
        tuple(Question.from_json(q) for q in template.questions),
        template.active,
        forms,
        responses,
    )


def _latest(session: Session, code: str) -> SurveyTemplate:
    template = session.scalar(
        select(SurveyTemplate).where(SurveyTemplate.code == code).order_by(SurveyTemplate.version.desc()).limit(1)
    )
    if template is None:
        raise NotFoundError(S("Errors", "No survey template with code {code}."), code=code)
    return template


class SurveyService:
    def __init__(self, db: Database, operator: Operator, clock: Clock) -> None:
        self.db = db
        self.operator = operator
        self.clock = clock

    # ---- templates -------------------------------------------------------------------------------------------
    def templates(self) -> list[TemplateInfo]:
        """The latest version of every template, with its forms and responses over all versions."""

        def work(session: Session) -> list[TemplateInfo]:
            forms = dict(
                session.execute(
                    select(SurveyTemplate.code, func.count(SurveyForm.id))
                    .join(SurveyForm, SurveyForm.template_id == SurveyTemplate.id)
                    .group_by(SurveyTemplate.code)
                ).all()
            )
            answers = dict(
                session.execute(
                    select(SurveyTemplate.code, func.count(SurveyResponse.id))
                    .join(SurveyResponse, SurveyResponse.template_id == SurveyTemplate.id)
                    .group_by(SurveyTemplate.code)
                ).all()
            )
            newest = (
                select(SurveyTemplate.code, func.max(SurveyTemplate.version).label("v"))
                .group_by(SurveyTemplate.code)
                .subquery()
            )
            rows = session.scalars(
                select(SurveyTemplate)
                .join(newest, (newest.c.code == SurveyTemplate.code) & (newest.c.v == SurveyTemplate.version))
                .order_by(SurveyTemplate.code)
            ).all()
            return [_info(t, forms.get(t.code, 0), answers.get(t.code, 0)) for t in rows]

        return self.db.read(work)

    def template(self, code: str) -> TemplateInfo:
        return self.db.read(lambda s: _info(_latest(s, code.strip().upper())))

    def save_template(self, draft: TemplateDraft) -> TemplateSaved:
        """A manager or the owner. A template whose forms were printed or answered gets a new version (the old
        one retired), so old answers keep the questions they answered."""
        require_role(self.operator, StaffRole.MANAGER)
        code = draft.code.strip().upper()
        if not _CODE.fullmatch(code):
            raise ValidationError(
                S("Errors", "A template code has 1 to 20 letters, digits, - or _."), field="code", code=code
            )
        title = draft.title.strip()
        if not title or len(title) > 200:
            raise ValidationError(S("Errors", "A survey needs a title (at most 200 characters)."), field="title")
        questions = validate_questions(draft.questions)

        def work(session: Session) -> TemplateSaved:
            current = session.scalar(
                select(SurveyTemplate)
                .where(SurveyTemplate.code == code)
                .order_by(SurveyTemplate.version.desc())
                .limit(1)
                .with_for_update()
            )
            used = current is not None and bool(
                session.scalar(select(func.count()).select_from(SurveyForm).where(SurveyForm.template_id == current.id))
                or session.scalar(
                    select(func.count()).select_from(SurveyResponse).where(SurveyResponse.template_id == current.id)
                )
            )
            values = {
                "title": title,
                "title_en": draft.title_en.strip() or None,
                "description": draft.description.strip() or None,
                "questions": [q.to_json() for q in questions],
            }
            if current is not None and not used:
                for name, value in values.items():
                    setattr(current, name, value)
                template = current
            else:
                if current is not None:
                    current.active = False
                template = SurveyTemplate(
                    code=code, version=1 if current is None else current.version + 1, active=True, **values
                )
                session.add(template)
            session.flush()
            record_audit(
                session,
                self.operator,
                "save",
                "survey_template",
                template.id,
                {"code": code, "version": template.version},
            )
            return TemplateSaved(_info(template), new_version=current is None or used)

        return self.db.write(work)

    # ---- printing --------------------------------------------------------------------------------------------
    def print_forms(
        self, code: str, count: int, member_no: str | None, render: Callable[[FormBatch], object]
    ) -> FormBatch:
        """Number `count` forms of the template's latest version and hand them to `render` (which writes the PDF)
        inside the same transaction: if the PDF cannot be written, no form rows are kept."""
        if not 1 <= count <= MAX_FORMS:
            raise ValidationError(S("Errors", "Print between 1 and {most} forms."), field="count", most=MAX_FORMS)

        def work(session: Session) -> FormBatch:
            template = _latest(session, code.strip().upper())
            if not template.active:
                raise ValidationError(S("Errors", "Survey {code} is retired."), code=template.code)
            member: tuple[int, str | None, str | None] | None = None
            if member_no:
                row = session.execute(
                    select(Member.id, Member.card_no, Member.name).where(
                        (Member.member_no == member_no.strip()) | (Member.card_no == member_no.strip()),
                        Member.status != MemberStatus.ANONYMISED,
                    )
                ).first()
                if row is None:
                    raise NotFoundError(S("Errors", "No member with number {number}."), number=member_no)
                member = (row[0], row[1], row[2])
            last = session.scalar(select(func.max(SurveyForm.form_no)).where(SurveyForm.form_no.like("SV%")))
            serial = int(last[2:10]) if last else 0
            now = self.clock.now()
            batch = f"{now:%Y%m%d%H%M%S}-{serial + 1}"
            numbers = [form_number(serial + i) for i in range(1, count + 1)]
            session.execute(
                insert(SurveyForm),
                [
                    {
                        "form_no": number,
                        "template_id": template.id,
                        "member_id": None if member is None else member[0],
                        "branch_id": self.operator.branch_id,
                        "batch": batch,
                        "status": FormStatus.PRINTED,
                        "printed_at": now,
                    }
                    for number in numbers
                ],
            )
            record_audit(
                session, self.operator, "print", "survey_forms", batch, {"code": template.code, "count": count}
            )
            result = FormBatch(
                batch,
                str(read_settings(session).store_name),
                _info(template),
                tuple(
                    PrintedForm(n, None if member is None else member[1], None if member is None else member[2])
                    for n in numbers
                ),
            )
            render(result)
            return result

        try:
            return self.db.write(work)
        except IntegrityError:  # another counter numbered the same forms a moment ago: number after theirs
            return self.db.write(work)

    # ---- entering returned forms -----------------------------------------------------------------------------
    def form_to_enter(self, raw: str, code: str | None = None) -> FormToEnter:
        """The form behind a scanned or typed number, if it can still be entered (for `code`'s survey)."""
        form_no = parse_form_number(raw)
        return self.db.read(lambda s: self._enterable(s, form_no, code))

    def _enterable(self, session: Session, form_no: str, code: str | None) -> FormToEnter:
        return self._enterable_form(session, form_no, code)[0]

    def _enterable_form(
        self, session: Session, form_no: str, code: str | None, lock: bool = False
    ) -> tuple[FormToEnter, int, int | None, int, int]:
        """The form to enter, and its id, member id, template id and branch id (locked for the entry with `lock`)."""
        query = (
            select(
                SurveyForm.id,
                SurveyForm.status,
                SurveyForm.member_id,
                SurveyForm.branch_id,
                SurveyTemplate,
                Member.member_no,
                Member.name,
            )
            .join(SurveyTemplate, SurveyTemplate.id == SurveyForm.template_id)
            .outerjoin(Member, Member.id == SurveyForm.member_id)
            .where(SurveyForm.form_no == form_no)
        )
        row = session.execute(query.with_for_update(of=SurveyForm) if lock else query).first()
        if row is None:
            raise NotFoundError(S("Errors", "Survey form {form} was never printed here."), form=form_no)
        form_id, status, member_id, branch_id, template, member_no, member_name = row
        if code is not None and template.code != code.strip().upper():
            raise ValidationError(
                S("Errors", "Form {form} belongs to another survey: {title}."),
                field="form_no",
                form=form_no,
                title=template.title,
            )
        if status == FormStatus.VOID:
            raise ConflictError(S("Errors", "Form {form} was voided."), form=form_no)
        done = session.execute(
            select(SurveyResponse.created_at, Staff.display_name)
            .outerjoin(Staff, Staff.id == SurveyResponse.entered_by_id)
            .where(SurveyResponse.form_id == form_id)
        ).first()
        if done is not None:
            local = done[0].astimezone(ZoneInfo(read_settings(session).store_timezone))
            raise ConflictError(
                S("Errors", "Form {form} was already entered on {when} by {who}."),
                form=form_no,
                when=f"{local:%Y-%m-%d %H:%M}",
                who=done[1] or "?",
            )
        reward = read_care_settings(session).survey_reward_points if member_id is not None else 0
        target = FormToEnter(form_no, _info(template), member_no, member_name, reward)
        return target, form_id, member_id, template.id, branch_id

    def enter(self, raw: str, typed: Mapping[str, str], client_uuid: str, code: str | None = None) -> ResponseSaved:
        """Store the answers of a returned form (and the member's reward), all in one transaction.

        Written with Core statements on the form's row, locked once: entering is done a hundred forms in a row, and
        the ORM's unit of work cost more than the writes themselves."""
        form_no = parse_form_number(raw)

        def work(session: Session) -> ResponseSaved:
            replay = session.execute(
                select(SurveyResponse.id, SurveyResponse.reward_points).where(
                    SurveyResponse.idempotency_key == client_uuid
                )
            ).first()
            if replay is not None:
                return ResponseSaved(replay[0], form_no, replay[1], Changes.NONE)
            target, form_id, member_id, template_id, branch_id = self._enterable_form(session, form_no, code, lock=True)
            answers = parse_answers(target.template.questions, typed)
            now = self.clock.now()
            nps_answer = next(
                (answers[q.key] for q in target.template.questions if q.kind == QuestionKind.NPS and q.key in answers),
                None,
            )
            changes = Changes.SURVEYS
            reward = 0
            if member_id is not None and target.reward_points > 0:
                reason = translate("Care", S("Care", "Survey form {form} returned")).format(form=form_no)
                if points.post_survey_reward(
                    session, self.operator, member_id, target.reward_points, reason, form_no, now
                ):
                    reward = target.reward_points
                    changes |= Changes.POINTS | Changes.MEMBERS
            conn = session.connection()
            response_id = conn.execute(
                _INSERT_RESPONSE,
                {
                    "client_uuid": client_uuid,
                    "idempotency_key": client_uuid,
                    "template_id": template_id,
                    "form_id": form_id,
                    "member_id": member_id,
                    "branch_id": branch_id,
                    "answers": answers,
                    "score": nps_answer if isinstance(nps_answer, int) else None,
                    "reward_points": reward,
                    "entered_by_id": self.operator.staff_id,
                    "answered_at": now,
                    "created_at": now,
                },
            ).scalar_one()
            conn.execute(_FORM_RETURNED, {"form_id": form_id})
            record_audit(session, self.operator, "enter", "survey_form", form_no, {"reward": reward})
            return ResponseSaved(response_id, form_no, reward, changes)

        try:
            return self.db.write(work)
        except IntegrityError:  # another counter entered this form at the same moment: say who
            return self.db.write(work)

    # ---- results ---------------------------------------------------------------------------------------------
    def results(
        self,
        code: str,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        by_month: bool = True,
        branch_id: int | None = None,
    ) -> SurveyResults:
        def work(session: Session) -> SurveyResults:
            latest = _latest(session, code.strip().upper())
            versions = session.scalars(
                select(SurveyTemplate).where(SurveyTemplate.code == latest.code).order_by(SurveyTemplate.version.desc())
            ).all()
            questions: dict[str, Question] = {}
            for version in versions:  # newest wording first; questions dropped later still count
                for raw in version.questions:
                    question = Question.from_json(raw)
                    questions.setdefault(question.key, question)
            query = (
                select(SurveyResponse.answers, SurveyResponse.answered_at, SurveyResponse.created_at, Branch.name)
                .join(Branch, Branch.id == SurveyResponse.branch_id)
                .where(SurveyResponse.template_id.in_([v.id for v in versions]))
            )
            if since is not None:
                query = query.where(SurveyResponse.answered_at >= since)
            if until is not None:
                query = query.where(SurveyResponse.answered_at < until)
            if branch_id is not None:
                query = query.where(SurveyResponse.branch_id == branch_id)
            zone = ZoneInfo(read_settings(session).store_timezone)
            rows = [
                (answers, (answered or created).astimezone(zone), branch)
                for answers, answered, created, branch in session.execute(query)
            ]
            return summarise(_info(latest), list(questions.values()), rows, by_month)

        return self.db.read(work)


def summarise(
    template: TemplateInfo,
    questions: Sequence[Question],
    rows: Sequence[tuple[Mapping[str, Answer], dt.datetime, str]],
    by_month: bool,
) -> SurveyResults:
    """The figures from (answers, local time answered, branch) rows: pure, so the arithmetic is tested by hand."""
    counts: dict[str, Counter[str]] = {q.key: Counter() for q in questions}
    texts: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)
    ratings_all: Counter[int] = Counter()
    nps_all: Counter[int] = Counter()
    periods: dict[str, tuple[Counter[int], Counter[int], list[int]]] = {}
    branches: dict[str, tuple[Counter[int], Counter[int], list[int]]] = {}
    kinds = {q.key: q.kind for q in questions}
    for answers, at, branch in sorted(rows, key=lambda r: r[1]):
        period = f"{at:%Y-%m}" if by_month else f"{at.isocalendar().year}-W{at.isocalendar().week:02d}"
        buckets = [
            periods.setdefault(period, (Counter(), Counter(), [0])),
            branches.setdefault(branch, (Counter(), Counter(), [0])),
        ]
        for bucket in buckets:
            bucket[2][0] += 1
        for key, value in answers.items():
            kind = kinds.get(key)
            if kind is None:
                continue
            if kind == QuestionKind.TEXT:
                texts[key].append((at, str(value)))
            elif kind == QuestionKind.MULTI and isinstance(value, list):
                counts[key].update(value)
            else:
                counts[key][str(value)] += 1
            if kind in (QuestionKind.RATING, QuestionKind.NPS) and isinstance(value, int):
                target = 0 if kind == QuestionKind.RATING else 1
                (ratings_all if target == 0 else nps_all)[value] += 1
                for bucket in buckets:
                    bucket[target][value] += 1
    results: list[QuestionResult] = []
    for question in questions:
        found = counts[question.key]
        if question.kind in (QuestionKind.RATING, QuestionKind.NPS):
            low, high = (1, 5) if question.kind == QuestionKind.RATING else (0, 10)
            numeric = Counter({int(k): v for k, v in found.items()})
            results.append(
                QuestionResult(
                    question,
                    sum(found.values()),
                    {str(score): found.get(str(score), 0) for score in range(low, high + 1)},
                    csat=csat(numeric) if question.kind == QuestionKind.RATING else None,
                    nps=nps(numeric) if question.kind == QuestionKind.NPS else None,
                    mean=mean(numeric),
                )
            )
        elif question.kind == QuestionKind.TEXT:
            answered = sorted(texts[question.key], reverse=True)
            results.append(QuestionResult(question, len(answered), {}, texts=answered[:TEXT_ANSWERS]))
        else:
            answered_forms = sum(found.values()) if question.kind == QuestionKind.SINGLE else None
            results.append(
                QuestionResult(
                    question,
                    answered_forms if answered_forms is not None else _forms_answering(rows, question.key),
                    {letter: found.get(letter, 0) for letter in question.letters},
                )
            )

    def figures(label: str, bucket: tuple[Counter[int], Counter[int], list[int]]) -> PeriodFigures:
        return PeriodFigures(label, bucket[2][0], csat(bucket[0]), nps(bucket[1]))

    return SurveyResults(
        template,
        len(rows),
        csat(ratings_all),
        nps(nps_all),
        results,
        [figures(label, bucket) for label, bucket in sorted(periods.items())],
        [figures(label, bucket) for label, bucket in sorted(branches.items())],
    )


def _forms_answering(rows: Sequence[tuple[Mapping[str, Answer], dt.datetime, str]], key: str) -> int:
    return sum(1 for answers, _at, _branch in rows if key in answers)


def results_table(results: SurveyResults, english: bool) -> tuple[list[str], list[list[object]]]:
    """The results as one table (for the command line, CSV and XLSX): section, item, answers, figure."""
    t = lambda text: translate("Care", text)  # noqa: E731
    columns = [t(S("Care", "Section")), t(S("Care", "Item")), t(S("Care", "Answers")), t(S("Care", "Value"))]
    rows: list[list[object]] = [
        [t(S("Care", "Overall")), t(S("Care", "Responses")), results.responses, ""],
        [t(S("Care", "Overall")), "CSAT %", "", _pct(results.csat)],
        [t(S("Care", "Overall")), "NPS", "", _pct(results.nps)],
    ]
    for number, item in enumerate(results.questions, start=1):
        section = f"Q{number} {item.question.shown(english)}"
        if item.csat is not None:
            rows.append([section, "CSAT %", item.answered, _pct(item.csat)])
        if item.nps is not None:
            rows.append([section, "NPS", item.answered, _pct(item.nps)])
        if item.mean is not None:
            rows.append([section, t(S("Care", "Mean")), item.answered, f"{item.mean:.2f}"])
        choices = dict(zip(item.question.letters, item.question.choices, strict=False))
        for answer, count in item.distribution.items():
            choice = choices.get(answer)
            label = (
                answer if choice is None else f"{answer} {(choice.text_en or choice.text) if english else choice.text}"
            )
            rows.append([section, label, count, ""])
        for at, text in item.texts:
            rows.append([section, f"{at:%Y-%m-%d}", 1, text])
    for period in results.trend:
        rows.append(
            [
                t(S("Care", "Trend")),
                period.label,
                period.responses,
                f"CSAT {_pct(period.csat)} / NPS {_pct(period.nps)}",
            ]
        )
    for branch in results.branches:
        rows.append(
            [
                t(S("Care", "Branch")),
                branch.label,
                branch.responses,
                f"CSAT {_pct(branch.csat)} / NPS {_pct(branch.nps)}",
            ]
        )
    return columns, rows


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
