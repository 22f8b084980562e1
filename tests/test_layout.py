"""The tree is the architecture: packages by responsibility, names that cannot be confused.

The import rules between packages are import-linter's contracts (pyproject.toml, run by
`make lint`); this checks what they cannot: how many modules stay loose at the top, and
that no two modules are named so alike that one is mistaken for the other.
"""

from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("exchange", "schemas", "keys")
# Loose modules allowed at the top of exchange/ (the app factory and what every edge reads).
MAX_LOOSE = 5
# Words that, glued to a name, make a confusable one (serverkeys, keystatements, logstore).
_PREFIX_WORDS = {"server", "key", "log", "case", "app", "api"}


def _modules() -> dict[str, list[str]]:
    """Module (and package) names -> where they are, outside migrations and tests."""
    names: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            name = path.parent.name if path.name == "__init__.py" else path.stem
            names.setdefault(name, []).append(relative.as_posix())
    return names


def _confusable(a: str, b: str) -> bool:
    """b is a's plural, or a with a prefix word (`keys` / `server_keys` or `serverkeys`)."""
    if a == b:
        return False
    if b in (a + "s", a + "es"):
        return True
    prefix = b.removesuffix(a)
    return prefix != b and (prefix.endswith("_") or prefix in _PREFIX_WORDS)


def test_at_most_a_handful_of_modules_stay_loose_at_the_top():
    loose = sorted(p.name for p in (ROOT / "exchange").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= MAX_LOOSE - 1, loose  # __init__ is one of them


def test_the_top_of_exchange_is_the_architecture():
    packages = sorted(p.name for p in (ROOT / "exchange").iterdir() if (p / "__init__.py").exists())
    assert {
        "protocol",
        "log",
        "storage",
        "services",
        "api",
        "client",
        "auditor",
        "cli",
        "reports",
        "ops",
        "observability",
    } <= set(packages)


def test_no_module_name_is_another_s_plural_or_prefixed_form():
    names = sorted(n for n in _modules() if n != "__init__")
    pairs = [(a, b) for a, b in combinations(names, 2) if _confusable(a, b) or _confusable(b, a)]
    assert pairs == []
