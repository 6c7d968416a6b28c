"""Fixtures shared by unit and integration tests."""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, the same files `sam local invoke -e` uses."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event
