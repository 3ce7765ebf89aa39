"""Complaint routing: top-level and second-level category, responsible department, confidence.

Data (taxonomy, examples, department table) lives in data/routing; see docs in bench/routing/REPORT.md.
"""

from bot.categories import CATEGORIES
from bot.routing.router import Route, Router, department_for, shared

__all__ = ["CATEGORIES", "Route", "Router", "department_for", "shared"]
