"""Districts of the example city, read from the NLU lookup table (data/nlu/lookups.yml).

The lookup table and its synonyms are the single source: the NLU model learns from them, and the
actions use them here to find the district inside a free-text address.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Dict, Optional

from bot.settings import ROOT

LOOKUPS_FILE = ROOT / "data" / "nlu" / "lookups.yml"


@lru_cache(maxsize=1)
def district_names() -> Dict[str, str]:
    """Maps every written form of a district (full name, short form) to its full name."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(LOOKUPS_FILE))
    names: Dict[str, str] = {}
    for table in data.lookup_tables:
        if table["name"] == "district":
            for element in table["elements"]:
                names[element] = element
    for written, canonical in data.entity_synonyms.items():
        if canonical in names.values() or canonical.endswith(("区", "县")):
            names[written] = canonical
    return names


def find_district(text: str) -> Optional[str]:
    """Returns the full district name mentioned in `text` (longest match first), or None."""
    names = district_names()
    for written in sorted(names, key=len, reverse=True):
        if written and written in text:
            return names[written]
    return None
