"""Drawing one demo member: who they are, and every visit they make to the store.

A member's draws come from generators of their own, seeded by (seed, member number), and are all made here, before
any points are worked out. The points history (history.py) makes no draws: decisions such as "pays with points this
time" compare a uniform number drawn here with the member's balance. So one member never shifts another, and the
number of draws never depends on the calendar: made on another day, the demo has the same people with the same
number of visits; only the dates move (and with them festival-sized baskets, and the points).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

from app.demo.calendar import ShoppingCalendar
from app.demo.catalog import (
    GIVEN_NAMES,
    ID_REGIONS,
    NOTES,
    PHONE_PREFIXES,
    SURNAMES,
    TAG_FRESH,
    TAG_MOTHER,
    TAG_OFFICE,
    TAG_SENIOR,
    TAG_STUDENT,
    TAG_THRIFTY,
)
from app.demo.shop import ProductRow, Shop
from app.members.validation import id_check_char
from db.enums import Gender

MIN_BASKET_FEN = 500  # ¥5
MAX_BASKET_FEN = 80_000  # ¥800
ITEMISED_SHARE = 0.3
"""Share of sales recorded with lines (the rest come from tills that send only the total)."""
RETURN_RATE = 0.006
AWAY_BRANCH_RATE = 0.15
"""Share of visits made at another branch than the member's own."""
REFERRED_RATE = 0.06
BASKET_SEED = 0x5EED_BA5E
LAUNCH_SHARE, LAUNCH_DAYS = 0.2, 30
"""A fifth of the members signed up in the programme's first month (the launch drive)."""
BUYS_WHEN_JOINING = 0.97
"""Most people sign up at the till while paying; a few only register."""


@dataclass(frozen=True)
class Persona:
    """A kind of shopper. Shares and rates are tuned so that members average about 8 purchases in two years, with
    the long tail a real programme has: a few weekly regulars, many who came once or twice."""

    name: str
    share: float
    interval_days: float
    """Mean days between visits while the member still shops here."""
    active_days: int | None
    """Only shops within this many days of joining (the one-off shopper), else until churning or the end."""
    churn: float
    """Chance the member stops coming at some point of the history (lapsed, then churned)."""
    basket_fen: int
    """Median basket."""


PERSONAS = (
    Persona("family", 0.02, 4.0, None, 0.10, 15000),
    Persona("loyal", 0.05, 8.0, None, 0.15, 6000),
    Persona("regular", 0.15, 30.0, None, 0.35, 6500),
    Persona("occasional", 0.35, 80.0, None, 0.50, 8000),
    Persona("one_off", 0.43, 60.0, 60, 1.0, 7000),
)
_PERSONA_CUM = list(accumulate(p.share for p in PERSONAS))
_SURNAME_CUM = list(accumulate(w for _, w in SURNAMES))
_SURNAMES = [s for s, _ in SURNAMES]


@dataclass(frozen=True, slots=True)
class LineDraw:
    product: ProductRow
    quantity: int

    @property
    def amount_fen(self) -> int:
        return self.product.price_fen * self.quantity


@dataclass(slots=True)
class Visit:
    at: int
    """Unix seconds."""
    day: int
    total_fen: int
    lines: list[LineDraw] | None
    branch_id: int
    staff_id: int
    u_points: float
    """Compared with the member's habit to decide whether points pay part of this purchase."""
    u_gift: float
    u_gift_pick: float
    u_complaint: float
    return_at: int = 0
    """When the purchase is brought back (0: never)."""
    return_day: int = 0


@dataclass(slots=True)
class Person:
    ordinal: int
    name: str
    gender: Gender
    birthday: dt.date | None
    id_number: str | None
    phone: str
    home_branch_id: int
    persona: Persona
    joined_at: int
    marketing: bool
    thrifty: bool
    tags: list[str]
    notes: str | None
    referrer_ordinal: int | None = None
    visits: list[Visit] = field(default_factory=list)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (Knuth for small means, a rounded normal for large ones)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class PeopleDrawer:
    """Draws members one after another; remembers phones already taken (in the store and in this demo)."""

    def __init__(self, seed: int, shop: Shop, calendar: ShoppingCalendar, taken_phones: set[int]) -> None:
        self.seed = seed
        self.shop = shop
        self.calendar = calendar
        self.taken_phones = taken_phones
        self.rng = random.Random()
        self.basket_rng = random.Random()
        """What is in the itemised baskets: how many products it takes depends on the basket's size, which
        follows the calendar, so these draws have their own generator and never shift the member's other draws."""
        self.today = calendar.dates[-1]
        self._branch_cum = list(accumulate(shop.branch_shares))
        self._grocery_cum = list(accumulate(1.0 / math.sqrt(p.price_fen) for p in shop.groceries))

    def draw(self, ordinal: int, earlier: list[Person]) -> Person:
        """Member `ordinal`; `earlier` are the members drawn before it in the same batch (possible referrers)."""
        rng = self.rng
        rng.seed((self.seed << 32) ^ ordinal)
        cal = self.calendar
        gender_u = rng.random()
        gender = Gender.FEMALE if gender_u < 0.56 else Gender.MALE if gender_u < 0.96 else Gender.UNKNOWN
        age = 18 + int(62 * rng.betavariate(2.0, 2.6))
        born = self.today - dt.timedelta(days=int(365.25 * (age + rng.random())))
        name = self._name(rng, gender, born.year)
        birthday = born if rng.random() < 0.88 else None
        id_number = self._id_number(rng, gender, birthday) if birthday and rng.random() < 0.03 else None
        persona = PERSONAS[min(_bisect(_PERSONA_CUM, rng.random()), len(PERSONAS) - 1)]
        home = self.shop.branch_ids[_bisect(self._branch_cum, rng.random() * self._branch_cum[-1])]
        last_day = cal.days - 1
        launch = rng.random() < LAUNCH_SHARE
        u_join = rng.random()
        join_day = cal.pick_day(u_join, 0, min(last_day, LAUNCH_DAYS - 1) if launch else last_day)
        joined_at = cal.pick_time(join_day, rng.random())
        # How long the member has been here, from the draw rather than from the calendar (see the module doc).
        tenure = cal.days - u_join * min(cal.days, LAUNCH_DAYS) if launch else (1 - u_join) * cal.days
        thrifty = rng.random() < 0.18
        tags = self._tags(rng, gender, age, persona, thrifty)
        person = Person(
            ordinal=ordinal,
            name=name,
            gender=gender,
            birthday=birthday,
            id_number=id_number,
            phone=self._phone(rng),
            home_branch_id=home,
            persona=persona,
            joined_at=joined_at,
            marketing=rng.random() < 0.6,
            thrifty=thrifty,
            tags=tags,
            notes=NOTES[int(rng.random() * len(NOTES))] if rng.random() < 0.02 else None,
        )
        if earlier and rng.random() < REFERRED_RATE:
            referrer = earlier[int(rng.random() * len(earlier))]
            if referrer.joined_at < joined_at:
                person.referrer_ordinal = referrer.ordinal
        self.basket_rng.seed((self.seed << 32) ^ ordinal ^ BASKET_SEED)
        self._visits(rng, person, join_day, tenure, TAG_MOTHER in tags)
        return person

    def _name(self, rng: random.Random, gender: Gender, born_year: int) -> str:
        surname = _SURNAMES[_bisect(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]
        sex = gender.value if gender != Gender.UNKNOWN else ("female" if rng.random() < 0.5 else "male")
        pool = GIVEN_NAMES[(sex, "older" if born_year < 1980 else "younger")]
        given = pool[int(rng.random() * len(pool))]
        if rng.random() < 0.7:
            given += pool[int(rng.random() * len(pool))]
        return surname + given

    def _phone(self, rng: random.Random) -> str:
        while True:
            phone = f"{PHONE_PREFIXES[int(rng.random() * len(PHONE_PREFIXES))]}{int(rng.random() * 100_000_000):08d}"
            number = int(phone)
            if number not in self.taken_phones:
                self.taken_phones.add(number)
                return phone

    @staticmethod
    def _id_number(rng: random.Random, gender: Gender, birthday: dt.date) -> str:
        serial = int(rng.random() * 500) * 2 + (1 if gender == Gender.MALE else 0)
        body = f"{ID_REGIONS[int(rng.random() * len(ID_REGIONS))]}{birthday:%Y%m%d}{serial:03d}"
        return body + id_check_char(body)

    @staticmethod
    def _tags(rng: random.Random, gender: Gender, age: int, persona: Persona, thrifty: bool) -> list[str]:
        tags: list[str] = []
        if gender == Gender.FEMALE and 24 <= age <= 40 and rng.random() < 0.35:
            tags.append(TAG_MOTHER)
        if age >= 60 and rng.random() < 0.7:
            tags.append(TAG_SENIOR)
        if age <= 22 and rng.random() < 0.6:
            tags.append(TAG_STUDENT)
        if 23 <= age <= 55 and rng.random() < 0.2:
            tags.append(TAG_OFFICE)
        if thrifty:
            tags.append(TAG_THRIFTY)
        if persona.name in ("family", "loyal") and rng.random() < 0.3:
            tags.append(TAG_FRESH)
        return tags

    def _visits(self, rng: random.Random, person: Person, join_day: int, tenure: float, mother: bool) -> None:
        cal = self.calendar
        persona = person.persona
        last_day = cal.days - 1
        stays = 1.0 if rng.random() >= persona.churn else rng.random()  # share of their time here before they stop
        active = tenure * stays
        stop_day = join_day + int(stays * (last_day - join_day))
        if persona.active_days is not None:
            active = min(active, persona.active_days)
            stop_day = min(stop_day, join_day + persona.active_days)
        more = poisson(rng, active / persona.interval_days)
        first = join_day + 1 if stop_day > join_day else join_day
        days = [cal.pick_day(rng.random(), first, stop_day) for _ in range(more)]
        smoker = rng.random() < (0.25 if person.gender == Gender.MALE else 0.02)
        median = persona.basket_fen * math.exp(rng.gauss(0.0, 0.35))
        after_joining = min(person.joined_at + 60, cal.now)
        moments = sorted((max(after_joining, cal.pick_time(day, rng.random())), day) for day in days)
        if rng.random() < BUYS_WHEN_JOINING:
            moments.insert(0, (after_joining, join_day))
        for at, day in moments:
            target = median * cal.basket[day] * math.exp(rng.gauss(0.0, 0.75))
            target_fen = min(MAX_BASKET_FEN, max(MIN_BASKET_FEN, int(target) // 10 * 10))
            lines: list[LineDraw] | None = None
            if rng.random() < ITEMISED_SHARE:
                lines = self._lines(self.basket_rng, target_fen, smoker, mother)
                total = sum(line.amount_fen for line in lines)
            else:
                total = target_fen
            branch = person.home_branch_id
            if rng.random() < AWAY_BRANCH_RATE:
                branch = self.shop.branch_ids[int(rng.random() * len(self.shop.branch_ids))]
            staff = self.shop.counter_staff[branch]
            visit = Visit(
                at=at,
                day=day,
                total_fen=total,
                lines=lines,
                branch_id=branch,
                staff_id=staff[0] if len(staff) == 1 or rng.random() < 0.85 else staff[1],
                u_points=rng.random(),
                u_gift=rng.random(),
                u_gift_pick=rng.random(),
                u_complaint=rng.random(),
            )
            if rng.random() < RETURN_RATE:
                u_day, u_time = rng.random(), rng.random()
                back = day + (0 if u_day < 0.3 else 1 + int(u_day * 7))
                if back <= last_day:
                    visit.return_day = back
                    visit.return_at = max(at + 600, cal.pick_time(back, u_time))
                    if visit.return_at > cal.now:
                        visit.return_at = visit.return_day = 0
            person.visits.append(visit)

    def _lines(self, rng: random.Random, target_fen: int, smoker: bool, mother: bool) -> list[LineDraw]:
        """Products until the basket reaches about `target_fen` (cheap items more often, several of them)."""
        shop = self.shop
        lines: list[LineDraw] = []
        total = 0
        if smoker and rng.random() < 0.5:
            pack = shop.tobacco[int(rng.random() * len(shop.tobacco))]
            lines.append(LineDraw(pack, 10 if rng.random() < 0.05 else 1 + int(rng.random() * 2)))
            total += lines[-1].amount_fen
        if mother and rng.random() < 0.4:
            lines.append(LineDraw(shop.baby[int(rng.random() * len(shop.baby))], 1))
            total += lines[-1].amount_fen
        while total < target_fen and len(lines) < 8:
            product = shop.groceries[_bisect(self._grocery_cum, rng.random() * self._grocery_cum[-1])]
            quantity = 1 if product.price_fen >= 2000 else 1 + int(rng.random() * 3)
            if lines and total + product.price_fen * quantity > MAX_BASKET_FEN:
                break
            lines.append(LineDraw(product, quantity))
            total += product.price_fen * quantity
        return lines


def _bisect(cumulative: list[float], value: float) -> int:
    return min(bisect_right(cumulative, value), len(cumulative) - 1)
