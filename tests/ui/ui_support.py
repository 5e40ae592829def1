"""What the GUI tests share besides fixtures: the staff PINs of the test store and a quick registration."""

from __future__ import annotations

from app.context import Services
from app.members.service import MemberForm

CASHIER_PIN = "1234"
MANAGER_PIN = "6666"


def register(services: Services, phone: str, name: str) -> int:
    return services.members.register(MemberForm(phone=phone, name=name, membership_consent=True))
