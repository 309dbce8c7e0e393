"""Maintenance personnel roster and the personal data planted in work-order texts (tracked for ground truth)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Person:
    employee_id: str | None
    name: str
    phone: str
    email: str


ROSTER: tuple[Person, ...] = (
    Person("EMP-004711", "Jonas Weber", "+49 171 5550142", "j.weber@werk-nord.local"),
    Person("EMP-004712", "Julia Müller", "+49 171 5550199", "j.mueller@werk-nord.local"),
    Person("EMP-004718", "Aarav Sharma", "+49 152 5550123", "a.sharma@plant.example"),
    Person("EMP-004725", "Mehmet Yılmaz", "+49 160 5550177", "m.yilmaz@werk-nord.local"),
    Person("EMP-004731", "Katarzyna Nowak", "+49 151 5550164", "k.nowak@plant.example"),
    Person("EMP-004736", "Lukas Schneider", "+49 171 5550111", "l.schneider@werk-nord.local"),
    Person("EMP-004744", "Sophie Becker", "+49 176 5550135", "s.becker@werk-nord.local"),
    Person("EMP-004752", "Olumide Adeyemi", "+49 157 5550148", "o.adeyemi@plant.example"),
    Person("EMP-004760", "Thomas Hoffmann", "+49 170 5550186", "t.hoffmann@werk-nord.local"),
    Person("EMP-004767", "Elena Petrova", "+49 172 5550153", "e.petrova@plant.example"),
    Person("EMP-004779", "Wei Zhang", "+49 162 5550129", "w.zhang@plant.example"),
    Person("EMP-004783", "Anna Fischer", "+49 173 5550170", "a.fischer@werk-nord.local"),
)
# contractors and visitors who appear in texts but are not on the roster
OFF_ROSTER: tuple[Person, ...] = (
    Person(None, "Dieter Krause", "+49 171 5550191", "dieter.krause.service@gmail.com"),
    Person(None, "Mike O'Connor", "+49 152 5550117", "mike.oconnor@gmail.com"),
    Person(None, "Priya Nair", "+49 160 5550105", "p.nair@serviceteam.example"),
    Person(None, "Hans-Jürgen Vogel", "+49 172 5550108", "hj.vogel@vogel-elektro.example"),
)


def phone_variant(phone: str, style: int) -> str:
    """The same number as people write it: +49 171 5550142, 0171/5550142, 555-0142, 0171 5550142, ..."""
    _, area, local = phone.split(" ")
    return (
        phone,
        f"0{area}/{local}",
        f"{local[:3]}-{local[3:]}",
        f"0{area} {local}",
        f"+49 (0){area} {local}",
    )[style % 5]


@dataclass
class PersonalData:
    """Collects every piece of personal data actually written into the work orders."""

    names: set[str] = field(default_factory=set)
    off_roster: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    employee_ids: set[str] = field(default_factory=set)

    def name(self, p: Person) -> str:
        (self.names if p.employee_id else self.off_roster).add(p.name)
        return p.name

    def phone(self, p: Person, rng: np.random.Generator, style: int | None = None) -> str:
        text = phone_variant(p.phone, int(rng.integers(5)) if style is None else style)
        self.phones.add(text)
        return text

    def email(self, p: Person) -> str:
        self.emails.add(p.email)
        return p.email

    def emp(self, p: Person) -> str:
        if p.employee_id is None:
            raise ValueError(f"{p.name} has no employee id")
        self.employee_ids.add(p.employee_id)
        return p.employee_id

    def as_json(self) -> dict[str, list[str]]:
        return {
            "names": sorted(self.names),
            "names_off_roster": sorted(self.off_roster),
            "phones": sorted(self.phones),
            "emails": sorted(self.emails),
            "employee_ids": sorted(self.employee_ids),
        }


def write_roster(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        [(p.employee_id, p.name, p.phone, p.email) for p in ROSTER],
        schema={c: pl.String for c in ("employee_id", "name", "phone", "email")},
        orient="row",
    ).write_csv(path)
