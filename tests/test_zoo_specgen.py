"""The spec zoo's generator (fast, no project is run): random specs are valid, cover the
catalogue, and are stable per seed."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, given, settings

from dsgen._blueprints import builtin_registry
from dsgen._model import FieldType
from tests.zoo.specgen import PY_KEYWORDS, SQL_RESERVED, check, random_spec, spec_strategy


def _specs(seed: int = 7, n: int = 200) -> list[dict]:
    return [random_spec(seed, i) for i in range(n)]


def test_two_hundred_random_specs_pass_check() -> None:
    rejected = {i: problems for i, spec in enumerate(_specs()) if (problems := check(spec))}
    assert not rejected, f"{len(rejected)} of 200 rejected, e.g. {next(iter(rejected.items()))}"


def test_the_specs_cover_the_catalogue() -> None:
    """Every pattern, every option of every manifest, every field type and modifier."""
    registry = builtin_registry()
    patterns, options, types, modifiers = Counter(), Counter(), Counter(), Counter()
    names: set[str] = set()
    realtime = Counter()
    for spec in _specs():
        for sname, store in spec["stores"].items():
            names.add(sname)
            realtime[bool(store.get("realtime"))] += 1
            for fname, body in store["fields"].items():
                names.add(fname)
                types[body["type"]] += 1
                modifiers.update(k for k in body if k != "type")
            for index in store.get("indexes", []):
                modifiers.update(f"index.{k}" for k in index)
        for name, screen in spec["screens"].items():
            names.add(name)
            patterns[screen["pattern"]] += 1
            options.update(f"{screen['pattern']}.{k}" for k in screen)
    assert set(patterns) == {b.id for b in registry.patterns}
    wanted = {f"{b.id}.{o.name}" for b in registry.patterns for o in b.options}
    assert wanted <= set(options), sorted(wanted - set(options))
    assert set(types) == {t.value for t in FieldType}
    assert {"required", "unique", "default", "min", "max", "values", "store", "many",
            "label", "index.fields", "index.unique", "index.partial"} <= set(modifiers)
    assert realtime[True] and realtime[False]
    assert set(SQL_RESERVED[:7]) <= names
    assert {n for n in names if n in PY_KEYWORDS}
    assert max(len(n) for n in names) >= 50


def test_a_seed_replays_the_same_spec() -> None:
    assert random_spec(3, 11) == random_spec(3, 11)
    assert random_spec(3, 11) != random_spec(3, 12)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec_strategy())
def test_hypothesis_specs_pass_check(spec: dict) -> None:
    assert check(spec) == []
