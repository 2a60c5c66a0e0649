"""Masking: every rule of what a department granted `masked` reads instead of a value.

Values are masked where they are read — fields in a department's view of the
schema (schema/projection.py), old and new values in its history
(`masked_change`) — and the access log marks such reads "(masked)"
(`as_logged`). A masked value must not be rebuilt from the same department's
other grants: `REVEALED_BY` says which grants would, and the policy loader
refuses them.
"""

from __future__ import annotations

from typing import Any


def mask_id_number(value: str | None) -> str | None:
    """Keep the first 6 (region) and last 4 characters: 350304********1234."""
    if value is None:
        return None
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str | None) -> str | None:
    """Keep the first 3 and last 4 digits: 138****5678."""
    if value is None:
        return None
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


# Fields that may be granted `masked`, and how each is masked.
MASKS = {
    "Person.idNumber": mask_id_number,
    "Person.phone": mask_phone,
    "Household.phone": mask_phone,
    "Region.phone": mask_phone,
    "Enterprise.phone": mask_phone,
    "Enterprise.safetyContactPhone": mask_phone,
    "FloodPoint.responsiblePhone": mask_phone,
}

# What each mask hides that other fields show in full: granting one of these `read` beside
# the masked field lets a department rebuild the masked value, so the loader refuses it.
REVEALED_BY = {
    "Person.idNumber": {
        # 350304********2390: the stars are the birth date (YYYYMMDD). Person.age leaves month and day hidden.
        "Person.birthDate": "the mask hides exactly the birth date; grant Person.age instead",
    },
    # A household's contact phone is one of its members' phones (in the demo data too).
    "Person.phone": {"Household.phone": "a household's phone is one of its members' phones"},
    "Household.phone": {"Person.phone": "a household's phone is one of its members' phones"},
}
assert REVEALED_BY.keys() <= MASKS.keys()


def masked_change(change: Any, ref: str) -> Any:
    """A history row of `ref` (`Type.field`) as a department reading it masked sees it: old and new value masked."""
    mask = MASKS[ref]
    copy = type(change)(*(getattr(change, name) for name in change.__slots__))
    copy.old_value, copy.new_value = mask(change.old_value), mask(change.new_value)
    return copy


def as_logged(ref: str, masked: bool) -> str:
    """How the access log names a sensitive field that was read: `Person.idNumber (masked)` when it was masked."""
    return f"{ref} (masked)" if masked else ref
