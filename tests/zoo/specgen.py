"""Random valid dsgen specs, built from the blueprint manifests and the field types.

Nothing here names a pattern: every screen's options come from its blueprint's manifest
(`Option.type`, `required`, `field_types`, `same_store`, `many`, `min`, `differs_from`,
`within`, `stored`, `distinct`, `covers_required`, list `items`), and every field from
`FieldType`. A new pattern or option is covered as soon as its manifest declares it.

One generator, two drivers:
- `spec_strategy()`: a hypothesis strategy (shrinks; for property tests);
- `random_spec(seed, index)`: the same generator driven by `random.Random`, so the zoo
  runner replays spec N of seed S exactly with `python -m tests.zoo run --seed S --only N`.

Specs are valid by construction; `check(spec)` (what `dsgen check` runs) is the guard.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from typing import Any

from dsgen._blueprints import Blueprint, Option, Registry, builtin_registry
from dsgen._check import RESERVED_ROUTES
from dsgen._load import IMPLICIT_FIELDS
from dsgen._model import FieldType
from dsgen._names import Name
from dsgen._views import _LABEL_NAMES

# -- names that bite ------------------------------------------------------------------
PLAIN = ["title", "name", "note", "status", "amount", "price", "due", "starts", "ends",
         "owner", "email", "project", "item", "lane", "rank", "score", "label", "body",
         "task", "room", "guest", "folder", "milestone", "invoice", "customer", "ticket"]
SQL_RESERVED = ["order", "user", "group", "select", "where", "table", "check", "from",
                "limit", "offset", "column", "default", "primary", "references", "desc"]
PY_KEYWORDS = ["class", "from", "import", "return", "lambda", "yield", "global", "with",
               "pass", "not", "is", "in", "async", "await", "match", "case", "def", "try"]
# Names the generated code itself uses (shadowing risks).
SHADOW = ["id_", "request", "response", "json", "date", "datetime", "list", "self", "row",
          "rows", "conn", "cursor", "settings", "page", "position", "parent", "values",
          "store", "field", "form", "errors", "data", "type", "query", "sort", "filter"]
HOSTILE_TEXT = [
    "Ünïcödé — 日本語 ✓", "O'Brien \"quoted\"", "<b>bold</b> & <i>it</i>",
    "</script><script>alert(1)</script>", "{{ 7*7 }} [[ x ]] {% raw %}", "${x} `tick` \\back\\",
    "emoji 🚀🔥", "  padded  ", "a & b < c > d", "100% #1 ?q=1",
    "‮rtl override", "Zero​width",
]
ENUM_VALUES = ["todo", "done", "in progress", "O'Brien", "say \"hi\"", "<b>x</b>", "a & b",
               "Ünï", "🚀", "50%", "x,y", "null", "true", "1", "-", "UPPER", "{{ v }}"]
_WORDS = ["alpha", "beta", "gamma", "delta", "omega", "kappa", "sigma", "theta"]


class Draw:
    """The few choices the generator makes; subclassed per driver."""

    def int(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def bool(self, p: float = 0.5) -> bool:
        return self.int(0, 999) < int(p * 1000)

    def choice(self, seq):
        seq = list(seq)
        return seq[self.int(0, len(seq) - 1)]

    def subset(self, seq, lo: int = 0, hi: int | None = None) -> list:
        """A sub-list of `seq` (order kept) of lo..hi items."""
        seq = list(seq)
        hi = len(seq) if hi is None else min(hi, len(seq))
        k = self.int(min(lo, hi), hi)
        pool = list(range(len(seq)))
        chosen = []
        for _ in range(k):
            chosen.append(pool.pop(self.int(0, len(pool) - 1)))
        return [seq[i] for i in sorted(chosen)]


class RandomDraw(Draw):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)


class HypothesisDraw(Draw):
    def __init__(self, draw):
        from hypothesis import strategies as st

        self._draw = draw
        self._st = st

    def int(self, lo: int, hi: int) -> int:
        return self._draw(self._st.integers(lo, hi))


# -- the generator ----------------------------------------------------------------------
_TEXTLIKE = (FieldType.STRING, FieldType.TEXT, FieldType.EMAIL, FieldType.URL)
_NUMBERS = (FieldType.INT, FieldType.FLOAT, FieldType.DECIMAL)
# Types whose sample values can follow a per-call sequence (unique fields and unique indexes).
_SEQUENCED = (*_TEXTLIKE, *_NUMBERS, FieldType.DATE, FieldType.DATETIME, FieldType.UUID)


# Spec features the zoo found defects in that are still open: `make zoo` generates them (to
# keep finding), the CI sample avoids them so that a red build means a new regression. Each
# has a spec under tests/zoo/found/; closing a defect = deleting its entry here.
OPEN_DEFECTS = frozenset({
    "text_labels",   # a store without a text field is labelled by an enum/uuid/number/date
                     # field: master-detail, tabs and the realtime runtime tests label records
                     # through conftest.label (regressions/text_labels.yml, typed_labels.yml);
                     # still open: tree, kanban and gantt tests type free text into their
                     # label, and bool/json/datetime/ref labels have no test value; a tree
                     # over a date/datetime label fails its migration (its sort index casts
                     # the label to text: not immutable; found/tree_typed_labels.yml)
    "long_names_layout",  # names near 63 bytes: lint and API are fixed (regressions/
                     # long_store_names.yml); a 360 px page can still scroll sideways (a long
                     # unbreakable name: found/long_names_layout.yml, browser test_layout)
    "long_channels", # a realtime store whose table name passes 54 bytes: its NOTIFY channel
                     # 'realtime_<table>' passes PostgreSQL's 63 ("channel name too long" on
                     # every write; found/long_realtime_channel.yml)
})


class _Gen:
    def __init__(self, d: Draw, registry: Registry, avoid: frozenset[str] = frozenset()):
        self.d = d
        self.registry = registry
        self.avoid = avoid
        self.stores: dict[str, dict[str, Any]] = {}     # name -> {"fields": {...}, ...}
        self.screens: dict[str, dict[str, Any]] = {}
        self.used_tables: set[str] = set()

    # names ---------------------------------------------------------------------------
    def word(self, kind: str) -> str:
        d = self.d
        pools = [PLAIN, SQL_RESERVED, SHADOW]
        if kind == "field":
            pools.append(PY_KEYWORDS)
        base = d.choice(d.choice(pools))
        roll = d.int(0, 9)
        if roll == 0 and "long_names_layout" in self.avoid:
            roll = 1
        if roll == 0:   # long: near PostgreSQL's 63-byte identifier limit once pluralised
            base = "_".join([base, *(d.choice(_WORDS) for _ in range(d.int(3, 8)))])[:58]
            base = base.rstrip("_")
        elif roll == 1:
            base = f"{base}_{d.choice(_WORDS)}"
        if not base[0].isalpha():
            base = "x" + base
        return base.rstrip("_")

    def store_name(self) -> str:
        for attempt in range(50):
            name = self.word("store") + (f"_{attempt}" if attempt > 3 else "")
            n = Name(name)
            if n.py != n.snake or name in self.stores or n.table in self.used_tables:
                continue
            self.used_tables.add(n.table)
            self.stores[name] = {"fields": {}}
            return name
        raise RuntimeError("no store name")

    def screen_name(self) -> str:
        for attempt in range(50):
            name = self.word("screen") + (f"_{attempt}" if attempt > 3 else "")
            n = Name(name)
            if n.py != n.snake or name in self.screens or n.kebab in RESERVED_ROUTES:
                continue
            return name
        raise RuntimeError("no screen name")

    def field_name(self, store: str) -> str:
        fields = self.stores[store]["fields"]
        for attempt in range(50):
            name = self.word("field") + (f"_{attempt}" if attempt > 3 else "")
            if name in fields or name in IMPLICIT_FIELDS:
                continue
            return name
        raise RuntimeError("no field name")

    def text(self) -> str:
        d = self.d
        if d.bool(0.5):
            return d.choice(HOSTILE_TEXT)
        return " ".join(d.choice(PLAIN + _WORDS) for _ in range(d.int(1, 4))).capitalize()

    # fields --------------------------------------------------------------------------
    def field(self, store: str, ftype: FieldType, *, ref_store: str | None = None,
              many: bool | None = None, required: bool | None = None,
              unique: bool | None = None) -> dict[str, Any]:
        d = self.d
        spec: dict[str, Any] = {"type": ftype.value}
        if required is None:
            required = d.bool(0.3)
        if required:
            spec["required"] = True
        if ftype in _SEQUENCED and d.bool(0.15) and unique is not False:
            spec["unique"] = True
        if d.bool(0.2):
            spec["label"] = self.text()
        if ftype in _TEXTLIKE:
            low = d.choice([None, None, 0, 1, 3]) if ftype is FieldType.STRING else None
            high = d.choice([None, None, 200, 80, 40, 12]) if ftype is not FieldType.EMAIL \
                else d.choice([None, 120, 254])
            if ftype is FieldType.URL and high is not None:
                high = max(high, 60)
            if low is not None:
                spec["min"] = low
            if high is not None:
                spec["max"] = high
            if d.bool(0.2) and ftype in (FieldType.STRING, FieldType.TEXT):
                text = d.choice(HOSTILE_TEXT)
                if high is not None:
                    text = text[:high]
                if len(text) >= (low or 0) and text.strip():
                    spec["default"] = text
        elif ftype in _NUMBERS:
            lo = d.choice([None, 0, -100, 1])
            hi = d.choice([None, 100, 10_000, 1_000_000])
            if lo is not None:
                spec["min"] = lo
            if hi is not None:
                spec["max"] = hi
            if ftype is FieldType.FLOAT and d.bool(0.3) and "min" in spec:
                spec["min"] = float(spec["min"]) + 0.5
            if d.bool(0.3):
                base = spec.get("min", 0)
                default = base if ftype is FieldType.INT else float(base)
                if ftype is FieldType.INT:
                    default = int(default if float(default).is_integer() else default + 1)
                spec["default"] = default
        elif ftype is FieldType.BOOL:
            if d.bool(0.5):
                spec["default"] = d.bool(0.5)
        elif ftype in (FieldType.DATE, FieldType.DATETIME):
            roll = d.int(0, 3)
            if roll == 0:
                spec["default"] = "now"
            elif roll == 1:
                spec["default"] = date(2026, 1, 15) if ftype is FieldType.DATE \
                    else datetime(2026, 1, 15, 9, 30)
        elif ftype is FieldType.ENUM:
            values = d.subset(ENUM_VALUES, 1, 5)
            spec["values"] = values
            if d.bool(0.5):
                spec["default"] = d.choice(values)
        elif ftype is FieldType.JSON:
            if d.bool(0.3):
                spec["default"] = d.choice([{"a": 1}, [1, 2], "x", 0, {"k": ["<v>"]}])
        elif ftype is FieldType.REF:
            target = ref_store or d.choice([*self.stores, store])
            spec["store"] = target
            if many is None:
                many = d.bool(0.25)
            if many:
                spec["many"] = True
                spec.pop("unique", None)
        return spec

    def add_field(self, store: str, ftype: FieldType, **kw) -> str:
        name = self.field_name(store)
        if "text_labels" in self.avoid and name in _LABEL_NAMES and \
                ftype.value not in ("string", "text"):
            name = f"{name}_{ftype.value}"   # a label-like name picks the store's label
        body = self.field(store, ftype, **kw)
        if ftype is FieldType.REF and body.get("many"):
            link = f"{store}_{name}"
            if link in self.used_tables:
                body.pop("many")
            else:
                self.used_tables.add(link)
        self.stores[store]["fields"][name] = body
        return name

    def new_store(self) -> str:
        name = self.store_name()
        if "text_labels" in self.avoid:
            self.add_field(name, FieldType.STRING)
        for _ in range(self.d.int(1, 4)):
            ftype = self.d.choice(list(FieldType))
            self.add_field(name, ftype)
        if self.d.bool(0.4) and not ("long_channels" in self.avoid
                                     and len(f"realtime_{Name(name).table}") > 63):
            self.stores[name]["realtime"] = True
        return name

    # options -------------------------------------------------------------------------
    def fitting(self, store: str, opt: Option) -> list[str]:
        out = []
        for fname, body in self.stores[store]["fields"].items():
            ftype = FieldType(body["type"])
            if opt.field_types and ftype.value not in opt.field_types:
                continue
            if ftype is FieldType.REF:
                if opt.same_store and body["store"] != store:
                    continue
                if opt.many is not None and bool(body.get("many")) != opt.many:
                    continue
            elif opt.same_store or opt.many:
                continue
            out.append(fname)
        return out

    def field_option(self, store: str, opt: Option, chosen: dict[str, Any]) -> str:
        taken = chosen.get(opt.differs_from) if opt.differs_from else None
        fits = [f for f in self.fitting(store, opt) if f != taken]
        if "text_labels" in self.avoid and opt.name == "label":
            fits = [f for f in fits if self.stores[store]["fields"][f]["type"] != "enum"]
        if fits and self.d.bool(0.6):
            return self.d.choice(fits)
        types = [FieldType(t) for t in opt.field_types] or list(FieldType)
        if "text_labels" in self.avoid and opt.name == "label":
            types = [t for t in types if t is not FieldType.ENUM]
        if opt.many is None and not opt.same_store:
            types = [t for t in types if t is not FieldType.REF] or types
        ftype = self.d.choice(types)
        kw: dict[str, Any] = {}
        if ftype is FieldType.REF:
            kw["ref_store"] = store if opt.same_store else None
            kw["many"] = bool(opt.many)
            if opt.same_store:
                kw["required"] = False  # a self-ref that is required has no first row
        return self.add_field(store, ftype, **kw)

    def fields_option(self, store: str, opt: Option, chosen: dict[str, Any],
                      blueprint: Blueprint, taken: set[str] | None = None) -> list[str]:
        fits = self.fitting(store, opt)
        if opt.stored:
            fits = [f for f in fits if f not in IMPLICIT_FIELDS]
        else:
            fits += [n for n, t in IMPLICIT_FIELDS.items()
                     if self.d.bool(0.1) and (not opt.field_types or t.value in opt.field_types)]
        if opt.within:
            other = blueprint.option(opt.within)
            limit = chosen.get(opt.within, other.default if other else None)
            if isinstance(limit, list):
                fits = [f for f in fits if f in limit]
            elif isinstance(limit, dict) and "first" in limit:
                allowed = [n for n, b in self.stores[store]["fields"].items()
                           if not other.field_types or b["type"] in other.field_types]
                fits = [f for f in fits if f in allowed[: int(limit["first"])]]
        if taken is not None:
            fits = [f for f in fits if f not in taken]
        return self.d.subset(fits, opt.min or 0, 5)

    def scalar_option(self, opt: Option, store: str | None, chosen: dict[str, Any]) -> Any:
        d = self.d
        if opt.type == "int":
            low = opt.min if opt.min is not None else 0
            return d.choice([low, low + 1, low + 2, low + 4, 25, 100])
        if opt.type == "bool":
            return d.bool(0.5)
        if opt.type == "string":
            if opt.name == "sort" and store is not None:
                # data-table's sort names a sortable column; a manifest type could say so
                cols = chosen.get("columns")
                names = [c for c in (cols if isinstance(cols, list) else [])
                         if self.stores[store]["fields"].get(c, {}).get("type")
                         not in ("json", None) and
                         not self.stores[store]["fields"].get(c, {}).get("many")]
                pick = d.choice([*names, "created_at", "updated_at"])
                return ("-" if d.bool(0.5) else "") + pick
            if opt.name == "name":
                return self.word("screen")
            return self.text()
        raise ValueError(opt.type)

    def screen(self, name: str, blueprint: Blueprint) -> None:
        d = self.d
        body: dict[str, Any] = {"pattern": blueprint.id}
        store = None
        if blueprint.store == "required" or (blueprint.store == "optional" and d.bool(0.5)):
            if self.stores and d.bool(0.5):
                store = d.choice(list(self.stores))
            else:
                store = self.new_store()
            body["store"] = store
        if d.bool(0.4):
            body["title"] = self.text()
        if d.bool(0.1):
            body["nav"] = False
        later = []
        for opt in blueprint.options:
            if not opt.required and not d.bool(0.6):
                continue
            if opt.type == "field":
                if store is None:
                    continue
                body[opt.name] = self.field_option(store, opt, body)
            elif opt.type in ("fields", "list", "screen"):
                later.append(opt)   # resolved once every store has all its fields
            else:
                if opt.type == "string" and opt.name == "sort":
                    later.append(opt)
                    continue
                body[opt.name] = self.scalar_option(opt, store, body)
        body["_later"] = later
        self.screens[name] = body

    def resolve(self, name: str) -> None:
        d = self.d
        body = self.screens[name]
        blueprint = self.registry.get(body["pattern"])
        store = body.get("store")
        for opt in body.pop("_later"):
            if opt.type == "fields":
                if store is not None:
                    body[opt.name] = self.fields_option(store, opt, body, blueprint)
            elif opt.type == "screen":
                others = self.embeddable(name, blueprint)
                if others:
                    body[opt.name] = d.choice(others)
            elif opt.type == "string":
                if store is not None:
                    body[opt.name] = self.scalar_option(opt, store, body)
            elif opt.type == "list":
                body[opt.name] = self.list_option(name, opt, store, body, blueprint)
        # keep the manifest's order of options (stable YAML)
        order = ["pattern", "store", "title", "nav", *(o.name for o in blueprint.options)]
        self.screens[name] = {k: body[k] for k in order if k in body}

    def embeddable(self, name: str, blueprint: Blueprint) -> list[str]:
        return [s for s, b in self.screens.items() if s != name and b["pattern"] != blueprint.id]

    def list_option(self, name: str, opt: Option, store: str | None, body: dict,
                    blueprint: Blueprint) -> list[dict[str, Any]]:
        d = self.d
        items: list[dict[str, Any]] = []
        taken: dict[str, set[str]] = {sub.name: set() for sub in opt.items}
        used_names: set[str] = set()
        n = d.int(1, 4)
        for _ in range(n):
            item: dict[str, Any] = {}
            for sub in opt.items:
                if not sub.required and not d.bool(0.5):
                    continue
                if sub.type == "string" and sub.name == "name":
                    value = self.word("screen")
                    while value in used_names:
                        value = f"{value}_{d.choice(_WORDS)}"
                    used_names.add(value)
                    item[sub.name] = value
                elif sub.type in ("string", "int", "bool"):
                    item[sub.name] = self.scalar_option(sub, store, item)
                elif sub.type == "screen":
                    others = self.embeddable(name, blueprint)
                    if others:
                        item[sub.name] = d.choice(others)
                elif sub.type in ("fields", "field") and store is not None:
                    fits = self.fields_option(store, sub, item, blueprint,
                                              taken[sub.name] if sub.distinct else None)
                    if sub.min and len(fits) < sub.min:
                        item = {}
                        break
                    taken[sub.name].update(fits)
                    item[sub.name] = fits if sub.type == "fields" else fits[0]
            if item and all(s.name in item for s in opt.items if s.required):
                items.append(item)
        if opt.covers_required:
            sub = next(s for s in opt.items if s.name == opt.covers_required)
            missing = [f for f, b in self.stores[store]["fields"].items()
                       if b.get("required") and b.get("default") is None and b["type"] != "bool"
                       and f not in taken[sub.name]]
            if missing:
                extra = {s.name: self.scalar_option(s, store, {}) for s in opt.items
                         if s.required and s.type != "fields"}
                extra[sub.name] = missing
                items.append(extra)
                taken[sub.name].update(missing)
        if not items:   # every item needs at least one thing of the store: ask for any field
            fallback = {s.name: self.scalar_option(s, store, {}) for s in opt.items
                        if s.required and s.type not in ("fields", "screen", "field")}
            for s in opt.items:
                if s.required and s.type == "fields" and store is not None:
                    fallback[s.name] = [self.add_field(store, FieldType.STRING,
                                                       required=False)]
            items.append(fallback)
        return items

    # stores --------------------------------------------------------------------------
    def indexes(self, store: str) -> None:
        d = self.d
        fields = self.stores[store]["fields"]
        columns = [f for f, b in fields.items() if not b.get("many") and b["type"] != "json"]
        out = []
        for _ in range(d.int(0, 2)):
            if not columns:
                break
            cols = d.subset(columns, 1, 3)
            index: dict[str, Any] = {"fields": cols}
            if d.bool(0.3) and any(fields[c]["type"] in [t.value for t in _SEQUENCED]
                                   for c in cols):
                index["unique"] = True
            if d.bool(0.3):
                cond = d.choice(columns)
                body = fields[cond]
                value = self.partial_value(body)
                index["partial"] = {cond: value}
            out.append(index)
        if out:
            self.stores[store]["indexes"] = out

    def partial_value(self, body: dict[str, Any]) -> Any:
        """A constant a partial index condition compares its column with."""
        if body["type"] == "enum":
            return self.d.choice(body["values"])
        if body["type"] == "bool":
            return self.d.bool(0.5)
        if body["type"] == "int":
            return body.get("min", 0) or 0
        return None

    def spec(self, app_name: str) -> dict[str, Any]:
        d = self.d
        patterns = self.registry.patterns
        for _ in range(d.int(1, 4)):
            self.screen(self.screen_name_reserving(), d.choice(patterns))
        if d.bool(0.25):
            self.new_store()    # a store no screen shows
        for name in list(self.screens):
            self.resolve(name)
        for store in self.stores:
            self.indexes(store)
        app: dict[str, Any] = {"name": app_name}
        if d.bool(0.6):
            app["title"] = self.text()
        return {"dsgen": 1, "app": app, "stores": self.stores, "screens": self.screens}

    def screen_name_reserving(self) -> str:
        name = self.screen_name()
        self.screens[name] = {"pattern": "", "_later": []}   # reserved until built
        return name


def generate(d: Draw, app_name: str = "zoo_app", registry: Registry | None = None,
             avoid: frozenset[str] = frozenset()) -> dict:
    """A spec as plain data (dump it with `to_yaml`); `avoid`: features of OPEN_DEFECTS
    not to generate."""
    return _Gen(d, registry or builtin_registry(), avoid).spec(app_name)


def random_spec(seed: int, index: int, registry: Registry | None = None,
                avoid: frozenset[str] = frozenset()) -> dict:
    """Spec number `index` of the zoo run seeded `seed` (stable across runs).

    The generator follows the manifests; the rules a pattern keeps in its own `check` hook
    (pattern.py) are not in them, so a draw `dsgen check` refuses is drawn again (from a
    derived, still stable, seed)."""
    spec: dict = {}
    for attempt in range(20):
        rng = random.Random(f"dsgen-zoo:{seed}:{index}" + (f":{attempt}" if attempt else ""))
        spec = generate(RandomDraw(rng), f"zoo_{seed}_{index}", registry, avoid)
        if not check(spec):
            break
    return spec


def spec_strategy(registry: Registry | None = None):
    from hypothesis import strategies as st

    @st.composite
    def specs(draw):
        return generate(HypothesisDraw(draw), "zoo_app", registry)

    return specs().filter(lambda spec: not check(spec))   # the patterns' own check hooks


def to_yaml(spec: dict) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(spec, out)
    return out.getvalue()


def check(spec: dict, where: str = "dsgen.yaml") -> list[str]:
    """`dsgen check` on the spec: the problems it reports (empty: valid)."""
    from pathlib import Path

    from dsgen._errors import DsgenError
    from dsgen._project import prepare_spec

    try:
        prepare_spec(Path(where), builtin_registry(), to_yaml(spec))
    except DsgenError as exc:
        diags = getattr(exc, "diagnostics", None)
        return [str(x) for x in diags] if diags else [str(exc)]
    return []
