"""The month at a glance as charts: what the dashboard and the handoff's first page draw."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ccmdesk.rules.billing import clock, dollars

# The bars' colours, the same on screen and on paper: the app's teal, amber, green, then further
# ones told apart by lightness as well as hue, so neighbouring bars differ for colour-blind
# readers too.
PALETTE = (
    "#1f6f8b",
    "#e0a040",
    "#2e7d5b",
    "#8e5ea2",
    "#5d6971",
    "#9fcbe0",
    "#8c564b",
    "#a4c97a",
    "#0b3542",
    "#f2c4a0",
)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


class Unit(StrEnum):
    """What a chart's values count; each drawer scales and words them the same way."""

    SECONDS = "seconds"  # drawn as minutes
    CENTS = "cents"  # drawn as dollars
    PATIENTS = "patients"


class Shape(StrEnum):
    GROUPED = "grouped"  # vertical bars, the series side by side
    STACKED = "stacked"  # vertical bars, the series on top of each other
    BARS = "bars"  # vertical bars of one series, each with its note above it
    FUNNEL = "funnel"  # horizontal bars of one series, top to bottom


@dataclass(frozen=True)
class Tile:
    label: str
    value: str


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]  # one per category, in the chart's unit


@dataclass(frozen=True)
class Chart:
    title: str
    shape: Shape
    unit: Unit
    axis: str  # the value axis's label
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    category_axis: str = ""  # the category axis's label, if it needs one
    notes: tuple[str, ...] = ()  # written above each bar (BARS), one per category
    empty: str = "Nothing to show."  # said instead of an empty chart
    footnote: str = ""  # a sentence under the chart: who it leaves out

    @property
    def is_empty(self) -> bool:
        return not self.categories or not any(v for s in self.series for v in s.values)


@dataclass(frozen=True)
class Glance:
    month: str  # YYYY-MM
    month_name: str  # "March 2026"
    tiles: tuple[Tile, ...]
    charts: tuple[Chart, ...]  # minutes per week, amounts by month, bands, enrolment


def scaled(value: int, unit: Unit) -> float:
    """A value as the charts plot it: seconds as minutes, cents as dollars."""
    if unit is Unit.SECONDS:
        return value / 60
    if unit is Unit.CENTS:
        return value / 100
    return float(value)


def exact(value: int, unit: Unit) -> str:
    """A value in words for a table or a label: "75:30" minutes, "$1,234.56", "12"."""
    if unit is Unit.SECONDS:
        return clock(value)
    if unit is Unit.CENTS:
        return dollars(value)
    return f"{value:,}"
