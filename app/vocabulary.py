"""The stored vocabularies the screens need by name (roles, genders, complaint severities and states). They are
defined with the models in db/ (the columns use them); the GUI takes them from here, so ui/ never imports db/
(docs: layers)."""

from __future__ import annotations

from db.enums import ComplaintSeverity, ComplaintStatus, Gender, StaffRole

__all__ = ["ComplaintSeverity", "ComplaintStatus", "Gender", "StaffRole"]
