"""The care desk's services for one operator, built together (app/context.py holds one of these)."""

from __future__ import annotations

from dataclasses import dataclass

from app.care.analysis import ComplaintAnalysisService
from app.care.complaints import ComplaintService
from app.care.exports import TableExportService
from app.care.follow_ups import FollowUpService
from app.care.settings import CareSettingsService
from app.care.surveys import SurveyService
from app.clock import Clock
from app.security.operator import Operator
from db.engine import Database


@dataclass(frozen=True)
class CareServices:
    complaints: ComplaintService
    analysis: ComplaintAnalysisService
    follow_ups: FollowUpService
    surveys: SurveyService
    settings: CareSettingsService
    exports: TableExportService

    @classmethod
    def build(cls, db: Database, operator: Operator, clock: Clock) -> CareServices:
        return cls(
            ComplaintService(db, operator, clock),
            ComplaintAnalysisService(db, operator, clock),
            FollowUpService(db, operator, clock),
            SurveyService(db, operator, clock),
            CareSettingsService(db, operator),
            TableExportService(db, operator),
        )
