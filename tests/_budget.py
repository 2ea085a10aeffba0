"""How many examples a property test draws: a base under the default and ci profiles
(100 examples each), scaled with the profile (``HYPOTHESIS_PROFILE=thorough``: 10x)."""

from __future__ import annotations

from hypothesis import settings

__all__ = ["examples"]


def examples(base: int) -> int:
    """``base`` examples under the default/ci profile, scaled with the loaded profile."""
    return max(1, base * settings().max_examples // 100)
