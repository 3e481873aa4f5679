"""Every screen at a phone, a tablet and a desktop size, light and dark: no sideways page
scroll, no overlapping controls, readable text (WCAG AA, measured on the rendered page),
visible keyboard focus. Screenshots are kept in artifacts/layout/ for a human to look at."""

from pathlib import Path

import pytest

from tests.conftest import make, ready

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "layout"
# (name, URL, the table whose sample row's id fills {id}): every screen, and the detail
# step of the list/detail screens.
SCREENS = [
    ("types", "/types", None),
    ("types-detail", "/types/{id}", "types"),
    ("orders", "/orders", None),
    ("orders-detail", "/orders/{id}", "orders"),
]
# One sample row per store (the sample factory fills the other required and unique columns),
# its references pointing at the referenced stores' rows, so the screens show records and
# not only their empty states.
SAMPLES = {
    "types": {
        "class": "Ada <b>&</b> {{ 7*7 }}",
        "from": "it's",
        "select": "5",
        "import": "Ada <b>&</b> {{ 7*7 }}",
    },
    "orders": {
        "where": "Ada <b>&</b> {{ 7*7 }}",
        "return": "{\"source\": \"test\"}",
    },
}
REFS = {
    "types": {"def": "orders"},
    "orders": {},
}
SIZES = [(360, 740), (768, 1024), (1280, 800)]
THEMES = ["light", "dark"]
AA = 4.5

# In-page audit. Colours are resolved by a 1x1 canvas (any CSS colour, oklch included, to
# sRGB bytes); a text's background is what is painted under it, composited over white.
AUDIT = """() => {
  const ctx = Object.assign(document.createElement('canvas'), {width: 1, height: 1})
    .getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  // What is painted under the element: the elements at its centre below it (a gantt bar is
  // a sibling of its label), else, off screen or not hit-testable, its ancestors.
  const under = (el) => {
    const r = el.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x >= 0 && y >= 0 && x < innerWidth && y < innerHeight) {
      const stack = document.elementsFromPoint(x, y), i = stack.indexOf(el);
      if (i >= 0) return stack.slice(i);
    }
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.push(e);
    return chain;
  };
  const background = (el) => {
    const layers = [];
    for (const e of under(el)) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== 'none' && !s.backgroundImage.startsWith('url(')) return null;  // a gradient: not measurable here
      const c = rgba(s.backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] === 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).slice(0, 4).join('.') : '');

  const lowContrast = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || ['SCRIPT', 'STYLE', 'OPTION', 'TITLE'].includes(el.tagName) || !shown(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1) continue;  // sr-only
    if (el.closest(':disabled, [aria-disabled=true]')) continue;  // WCAG exempts inactive controls
    const bg = background(el);
    if (!bg) continue;
    const fg = over(rgba(getComputedStyle(el).color), bg);
    const r = ratio(fg, bg);
    if (r < %(aa)s) lowContrast.push(`${r.toFixed(2)} ${JSON.stringify(text.slice(0, 30))} in ${name(el)}`);
  }

  // Interactive elements and the part of each the user can actually see (clipped by
  // scrolling ancestors and the viewport).
  const controls = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, [role=button], [role=tab]')]
    .filter(shown)
    .map(el => {
      let r = el.getBoundingClientRect();
      let [l, t, rt, b] = [r.left, r.top, r.right, r.bottom];
      for (let e = el.parentElement; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
          const c = e.getBoundingClientRect();
          l = Math.max(l, c.left); t = Math.max(t, c.top); rt = Math.min(rt, c.right); b = Math.min(b, c.bottom);
        }
      }
      l = Math.max(l, 0); t = Math.max(t, 0); rt = Math.min(rt, innerWidth); b = Math.min(b, innerHeight);
      return {el, l, t, r: rt, b};
    })
    .filter(c => c.r - c.l > 1 && c.b - c.t > 1);
  const overlaps = [];
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i], b = controls[j];
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
      if (w > 2 && h > 2) overlaps.push(`${name(a.el)} × ${name(b.el)} (${w.toFixed(0)}×${h.toFixed(0)} px)`);
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth,
    lowContrast: lowContrast.slice(0, 20),
    overlaps: overlaps.slice(0, 20),
  };
}""".replace("%(aa)s", str(AA))

# Tab through the page; every focused control must draw an outline or a ring: on itself,
# on its ::before/::after, or on its first child (a tree row draws it on its label).
FOCUS_SHOWN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const drawn = (s) => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
    || (s.boxShadow && s.boxShadow !== 'none');
  const styles = [getComputedStyle(el), getComputedStyle(el, '::before'), getComputedStyle(el, '::after')];
  if (el.firstElementChild) styles.push(getComputedStyle(el.firstElementChild));
  return {name: el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 20), shown: styles.some(drawn)};
}"""


def seed(db) -> dict[str, str]:
    """Insert the sample rows, referenced stores first; returns each table's row id."""
    ids: dict[str, str] = {}
    while len(ids) < len(SAMPLES):
        ready_tables = [t for t in SAMPLES if t not in ids and set(REFS[t].values()) <= set(ids)]
        assert ready_tables, "circular references between stores"
        for table in ready_tables:
            refs = {column: ids[target] for column, target in REFS[table].items()}
            ids[table] = make(db, table, **SAMPLES[table], **refs)
    return ids


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("width", "height"), SIZES, ids=lambda v: str(v))
@pytest.mark.parametrize(("screen", "url", "table"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_layout(page, db, screen, url, table, width, height, theme):
    ids = seed(db)
    if table:
        url = url.replace("{id}", ids[table])
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=theme, reduced_motion="reduce")
    page.goto(url)
    ready(page)
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.classList.contains('dark')") == (theme == "dark")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{screen}-{width}x{height}-{theme}.png")

    audit = page.evaluate(AUDIT)
    assert audit["scrollWidth"] <= audit["innerWidth"], (
        f"the page scrolls sideways: {audit['scrollWidth']} px wide at {width} px"
    )
    assert not audit["overlaps"], f"overlapping controls: {audit['overlaps']}"
    assert not audit["lowContrast"], f"text below {AA}:1 contrast: {audit['lowContrast']}"

    unseen = []
    for _ in range(8):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_SHOWN)
        if focus and not focus["shown"]:
            unseen.append(focus["name"])
    assert not unseen, f"focus not visible on: {unseen}"
