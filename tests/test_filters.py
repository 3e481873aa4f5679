"""The escaping filters (one per language a spec string lands in) and build_plan's options."""

from __future__ import annotations

import ast
import html
import json
import sqlite3
import textwrap
from datetime import date
from html.parser import HTMLParser

import jinja2
import pytest

from dsgen._blueprints import Registry, builtin_registry, load_blueprint
from dsgen._check import check_spec
from dsgen._errors import DsgenError
from dsgen._load import load_spec
from dsgen._project import render_project
from dsgen._render import (
    build_plan,
    html_text,
    js_string,
    json_text,
    make_environment,
    py_literal,
    render_plan,
)
from dsgen.db.quote import quote_ident as sql_ident
from dsgen.db.quote import sql_literal

NASTY = "He said \"hi\", it's a \\ {{ x }} {% if %} {# c #} </script> & <b> a\nb\u2028c\td"
STRINGS = [NASTY, "", "plain", "'", '"', "\\", "\\'", "}}", "\u2029\x00\x1f", "é ✓ 😀"]


@pytest.mark.parametrize("text", STRINGS)
def test_py_literal_round_trips(text):
    literal = py_literal(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal                       # one line of generated code
    tree = ast.parse(f"x = {literal}\n")             # and a valid statement in a module
    assert ast.literal_eval(tree.body[0].value) == text


def test_py_literal_uses_double_quotes():
    assert py_literal("it's") == '"it\'s"'


@pytest.mark.parametrize("value", [
    None, True, False, 0, -3, 2.5, 1e-05, [], {}, [1, "a", None], {"a": [1, {"b": NASTY}]},
    {"class": True, "x y": "\n"},
])
def test_py_literal_of_json_like_values(value):
    assert ast.literal_eval(py_literal(value)) == value


def test_py_literal_of_a_tuple_and_other_values():
    assert ast.literal_eval(py_literal((1, "a"))) == [1, "a"]
    assert ast.literal_eval(py_literal(date(2024, 1, 31))) == "2024-01-31"


@pytest.fixture(scope="module")
def db():
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


@pytest.mark.parametrize("text", [s for s in STRINGS if "\x00" not in s])
def test_sql_literal_round_trips(db, text):
    assert db.execute(f"SELECT {sql_literal(text)}").fetchone() == (text,)


@pytest.mark.parametrize(("value", "literal"), [
    (None, "NULL"), (True, "true"), (False, "false"), (3, "3"), (2.5, "2.5"),
    ("it's", "'it''s'"), ("a\\b", "'a\\b'"),
])
def test_sql_literal_constants(value, literal):
    assert sql_literal(value) == literal


def test_sql_literal_values_evaluate(db):
    assert db.execute(f"SELECT {sql_literal(None)}, {sql_literal(3)}, {sql_literal(2.5)}, "
                      f"{sql_literal(True)}").fetchone() == (None, 3, 2.5, 1)


@pytest.mark.parametrize("name", ["status", "order", "select", 'we"ird', "a b", "Ünï"])
def test_sql_ident_round_trips(db, name):
    cursor = db.execute(f"SELECT 1 AS {sql_ident(name)}")
    assert cursor.description[0][0] == name
    assert sql_ident(name).startswith('"') and sql_ident(name).endswith('"')


@pytest.mark.parametrize("text", STRINGS)
def test_html_text_escapes_and_neutralises_braces(text):
    out = html_text(text)
    assert html.unescape(out) == text
    for ch in "<>\"'{}":
        assert ch not in out
    # the generated app's own Jinja shows it as text, never runs it
    assert jinja2.Environment().from_string(out).render(x="RAN") == out


class _Attributes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        self.attrs.update(attrs)


@pytest.mark.parametrize("text", STRINGS)
def test_js_string_decodes_back(text):
    out = js_string(text)
    assert json.loads(html.unescape(out)) == text
    for ch in "<>\"'{}":
        assert ch not in out
    assert jinja2.Environment().from_string(out).render(x="RAN") == out
    # what the browser hands to Datastar from a double- or single-quoted attribute
    for quote in "\"'":
        parser = _Attributes()
        parser.feed(f"<div data-on-click={quote}say({out}){quote}></div>")
        assert parser.attrs["data-on-click"] == f"say({json.dumps(text, ensure_ascii=False)})"


def test_json_text():
    assert json_text({"a": [1, "é"], "b": None}) == '{"a": [1, "é"], "b": null}'


def test_environment_keeps_generated_jinja_and_applies_filters(tmp_path):
    (tmp_path / "page.html.jinja").write_text(
        "<h1>[[ title | html ]]</h1>{{ generated }}[# dsgen comment #]"
        "[% if show %]<p data-text=\"[[ title | js ]]\"></p>[% endif %]\n"
        "TITLE = [[ title | py ]]\nSELECT [[ title | sql ]] AS [[ col | ident ]]\n")
    env = make_environment([tmp_path])
    text = env.get_template("page.html.jinja").render(title=NASTY, show=True, col="a\"b")
    assert text.startswith(f"<h1>{html_text(NASTY)}</h1>{{{{ generated }}}}<p data-text=")
    assert f'TITLE = {py_literal(NASTY)}' in text
    assert f"SELECT {sql_literal(NASTY)} AS \"a\"\"b\"" in text
    with pytest.raises(jinja2.UndefinedError):        # StrictUndefined
        env.get_template("page.html.jinja").render(show=True, col="c")


# -- build_plan: options resolved with the blueprint's defaults ---------------------------
SPEC = """\
dsgen: 1
app: {name: shop}
stores:
  contact:
    fields:
      name: string
      email: email
      score: int
      status: {type: enum, values: [a, b]}
      notes: text
screens:
  everyone: {pattern: master-detail, store: contact}
  picked:
    pattern: master-detail
    store: contact
    list: [status, name]
    detail: [notes]
    search: [email, status]
"""


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "dsgen.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return build_plan(load_spec(path), builtin_registry())


@pytest.fixture(scope="module")
def screens(plan) -> dict:
    [views] = {id(j.context["screens"]): j.context["screens"] for j in plan.jobs}.values()
    return {s.name.snake: s for s in views}


def _names(fields) -> list[str]:
    return [f.name.snake for f in fields]


def test_options_default_from_the_manifest(screens):
    options = screens["everyone"].options
    assert _names(options["list"]) == ["name", "email", "score"]           # {first: 3}
    assert _names(options["detail"]) == ["name", "email", "score", "status", "notes"]  # all
    assert options["search"] == []


def test_options_given_keep_their_order(screens):
    options = screens["picked"].options
    assert _names(options["list"]) == ["status", "name"]
    assert _names(options["detail"]) == ["notes"]
    assert _names(options["search"]) == ["email", "status"]
    assert options["list"][0].store.name.snake == "contact"


def test_implicit_fields_in_a_fields_option_are_kept(write_spec):
    spec = load_spec(write_spec(SPEC.replace("list: [status, name]",
                                             "list: [name, created_at]")))
    assert check_spec(spec, builtin_registry()) == []
    plan = build_plan(spec, builtin_registry())
    screens = {s.name.snake: s for s in plan.jobs[0].context["screens"]}
    listed = screens["picked"].options["list"]
    assert [f.name.snake for f in listed] == ["name", "created_at"]
    assert listed[1].type == "datetime" and listed[1].required


def test_screen_jobs_are_rendered_per_screen_and_sorted(plan):
    paths = [j.path for j in plan.jobs]
    assert paths == sorted(paths)
    assert {"app/screens/everyone.py", "app/screens/picked.py"} <= set(paths)
    [job] = [j for j in plan.jobs if j.path == "app/screens/picked.py"]
    assert job.context["screen"].name.snake == "picked"


def _blueprint(root, name: str, manifest: str, templates: dict[str, str]):
    folder = root / name
    (folder / "templates").mkdir(parents=True)
    (folder / "blueprint.yml").write_text(textwrap.dedent(manifest))
    for path, text in templates.items():
        (folder / "templates" / path).write_text(text)
    return load_blueprint(folder)


def test_two_templates_rendering_one_path_is_an_error(tmp_path, write_spec):
    app = _blueprint(tmp_path, "app", "id: app\nkind: project\n", {"x.txt": "a\n"})
    pattern = _blueprint(tmp_path, "page", "id: page\nstore: none\n",
                         {"x.txt.jinja": "[[ app.name ]]\n"})
    registry = Registry({"app": app, "page": pattern})
    spec = load_spec(write_spec("dsgen: 1\napp: {name: shop}\nscreens: {home: {pattern: page}}\n"))
    with pytest.raises(DsgenError, match="two templates render to x.txt"):
        build_plan(spec, registry)


def test_render_plan_renders_in_memory(tmp_path, write_spec):
    app = _blueprint(tmp_path, "app", "id: app\nkind: project\n",
                     {"static.txt": "as is [[ x ]]\n",
                      "title.py.jinja": "TITLE = [[ app.title | py ]]\n"})
    page = _blueprint(tmp_path, "page", "id: page\nstore: none\n", {})
    registry = Registry({"app": app, "page": page})
    spec = load_spec(write_spec("dsgen: 1\napp: {name: shop, title: 'it''s \"x\"'}\n"
                                "screens: {home: {pattern: page}}\n"))
    files = {f.path: f.content for f in render_plan(build_plan(spec, registry))}
    assert files == {"static.txt": b"as is [[ x ]]\n",
                     "title.py": b'TITLE = "it\'s \\"x\\""\n'}
    assert list(tmp_path.rglob("title.py")) == []


def test_spec_strings_survive_a_whole_render(write_spec):
    # Every language a spec string lands in, through the real blueprints: the generated
    # Python parses and the generated Jinja templates parse, with the string intact.
    # Titles, labels and enum values are one line of text (line breaks and tabs are refused
    # there, see test_load); a string default may hold them.
    line = NASTY.replace("\n", " ").replace("\u2028", " ").replace("\t", " ")
    quoted, one_line = json.dumps(NASTY), json.dumps(line)
    spec = load_spec(write_spec(f"""\
        dsgen: 1
        app: {{name: shop, title: {one_line}}}
        stores:
          contact:
            fields:
              name: {{type: string, required: true, label: {one_line}}}
              status: {{type: enum, values: [{one_line}, "b'c"], default: {one_line}}}
              note: {{type: string, default: {quoted}}}
        screens:
          contacts: {{pattern: master-detail, store: contact, title: {one_line},
                     search: [name, status]}}
        """))
    assert spec.app.title == line and check_spec(spec, builtin_registry()) == []
    files = {f.path: f.content.decode() for f in
             render_project(spec, builtin_registry(), with_assets=False)}
    env = jinja2.Environment()
    python = [p for p in files if p.endswith(".py")]
    templates = [p for p in files if p.endswith(".html")]
    assert python and templates
    for path in python:
        ast.parse(files[path], filename=path)
    for path in templates:
        env.parse(files[path], filename=path)
    assert py_literal(NASTY) in "".join(files[p] for p in python)


@pytest.mark.parametrize("code", [
    'x = f"a {b}"  # now\n',
    "s = '''multi\nnow'''\nnow()\n",
    'r"\\"" + date\n',
    "x = b'\\\n now'\ny = Decimal\n",
    "u'''a\\'''' + Any\n",
    'rb"""x""" if UUID else Rf\'y\'\n',
    "def f(a: Annotated[int, Field(ge=1)]) -> Literal['now']: ...\n",
])
def test_names_in_code_match_pythons_tokenizer(code):
    import io
    import tokenize

    from dsgen._fields import _names_in_code

    names = {t.string for t in tokenize.generate_tokens(io.StringIO(code).readline)
             if t.type == tokenize.NAME}
    assert _names_in_code(code) == names


def test_templated_paths_look_names_up_like_jinja():
    from dsgen._render import _render_path, make_environment

    env = make_environment([])
    screen = {"name": {"snake": "deals"}}
    assert _render_path(env, "app/[[ screen.name.snake ]].py", {"screen": screen}) \
        == "app/deals.py"
    # Not a plain name: Jinja renders it.
    assert _render_path(env, "app/[[ screen.name.snake|upper ]].py", {"screen": screen}) \
        == "app/DEALS.py"
    with pytest.raises(jinja2.UndefinedError):
        _render_path(env, "app/[[ screen.nom.snake ]].py", {"screen": screen})


def test_the_bytecode_cache_loads_what_it_stored_and_drops_stale_entries(tmp_path):
    from dsgen._render import _BytecodeCache

    (tmp_path / "t.jinja").write_text("[[ 6 * 7 ]]\n")
    cache = _BytecodeCache(str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()

    def env():
        return jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)),
                                  bytecode_cache=cache, variable_start_string="[[",
                                  variable_end_string="]]")

    assert env().get_template("t.jinja").render() == "42"
    assert len(list((tmp_path / "cache").iterdir())) == 1
    compiled = []
    second = env()
    second.compile = lambda *a, **k: compiled.append(a) or jinja2.Environment.compile(
        second, *a, **k)
    assert second.get_template("t.jinja").render() == "42"
    assert compiled == []                       # loaded from the cache
    (tmp_path / "t.jinja").write_text("[[ 6 * 8 ]]\n")
    third = env()
    assert third.get_template("t.jinja").render() == "48"   # changed source: recompiled
