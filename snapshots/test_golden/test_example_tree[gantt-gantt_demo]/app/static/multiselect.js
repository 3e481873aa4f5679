// A searchable multi-select with chips over a server-rendered <select multiple> inside a
// [data-multiselect] element (_shared/_include/input.html). The select stays the source of
// truth: it is what the form submits (one value per chosen option, as without this script)
// and what the server renders the chosen options into. This script only draws chips, a
// filter box (ARIA combobox) and a list (listbox) of the options not chosen yet, and sets
// the options' selectedness. When a Datastar morph re-renders the form (an error), the drawn
// part is stale; it is drawn again from the select, so the server's render wins.
// Keys in the box: typing filters, ArrowDown/ArrowUp move, Enter adds, Escape closes the
// list, Backspace in an empty box removes the last chip.
let serial = 0;

const optionsOf = (select) => [...select.options].filter((o) => o.value !== '');
const labelOf = (select) => {
  const label = select.id && document.querySelector(`label[for="${CSS.escape(select.id)}"]`);
  return (label?.firstChild?.textContent || label?.textContent || '').trim();
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// The drawn part of one widget; built once per [data-multiselect] element it sits in.
function build(root, select) {
  const id = `ms-${++serial}`;
  const name = labelOf(select);
  const chips = el('ul', {class: 'ms-chips', 'aria-label': `Chosen: ${name}`});
  const box = el('input', {
    type: 'text', id: `${id}-input`, class: 'ms-input', role: 'combobox', autocomplete: 'off',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': `${id}-list`,
    'aria-label': name, placeholder: 'Type to search…',
  });
  const list = el('ul', {id: `${id}-list`, class: 'ms-list', role: 'listbox', 'aria-label': name});
  list.hidden = true;
  // Into the server's empty [data-ms-ui data-ignore-morph] element: Datastar's morphs leave
  // it (and the focus and the typed text in it) alone; the select beside it is morphed.
  let ui = root.querySelector(':scope > [data-ms-ui]');
  if (!ui) root.append(ui = el('div', {'data-ms-ui': ''}));
  ui.replaceChildren(el('div', {class: 'ms-field'}, chips, box), list);
}

const partsOf = (root) => {
  const ui = root.querySelector(':scope > [data-ms-ui]');
  return ui?.querySelector(':scope > .ms-field') && {
    ui, select: root.querySelector(':scope > select[multiple]'),
    chips: ui.querySelector('.ms-chips'), box: ui.querySelector('.ms-input'),
    list: ui.querySelector('.ms-list'),
  };
};

// What the chips show: redrawn only when the select's options or choice changed (or a
// morph changed its error state), so this never loops with the observer below.
function sync(root) {
  const select = root.querySelector(':scope > select[multiple]');
  if (!select) return;
  const p = partsOf(root) || (build(root, select), partsOf(root));
  const options = optionsOf(select);
  const sig = options.map((o) => `${o.value}${o.selected ? '+' : '-'}${o.text}`).join('\n') +
    `|${select.getAttribute('aria-invalid')}|${select.getAttribute('aria-describedby')}`;
  if (p.ui.dataset.sig === sig) return;
  p.ui.dataset.sig = sig;
  for (const attr of ['aria-invalid', 'aria-describedby']) {
    if (select.hasAttribute(attr)) p.box.setAttribute(attr, select.getAttribute(attr));
    else p.box.removeAttribute(attr);
  }
  p.chips.replaceChildren(...options.filter((o) => o.selected).map((o) => el('li',
    {class: 'ms-chip'}, el('span', {text: o.text}),
    el('button', {type: 'button', class: 'ms-remove', 'data-value': o.value,
      'aria-label': `Remove ${o.text}`, text: '×'}))));
  if (!p.list.hidden) show(root);
}

// The list: the options not chosen whose label holds what is typed.
function show(root, active) {
  const p = partsOf(root);
  const q = p.box.value.trim().toLowerCase();
  const all = optionsOf(p.select);
  const free = all.filter((o) => !o.selected && o.text.toLowerCase().includes(q));
  const keep = active ?? p.list.querySelector('[aria-selected=true]')?.dataset.value;
  const at = Math.max(0, free.findIndex((o) => o.value === keep));
  p.list.replaceChildren(...free.map((o, i) => el('li', {
    id: `${p.list.id}-${i}`, role: 'option', class: 'ms-option', 'data-value': o.value,
    'aria-selected': i === at ? 'true' : 'false', text: o.text,
  })));
  if (!free.length) {
    const note = q ? 'No matches' : (all.length ? 'All chosen' : 'Nothing to choose yet');
    p.list.append(el('li', {class: 'ms-empty', text: note}));
  }
  p.list.hidden = false;
  p.box.setAttribute('aria-expanded', 'true');
  if (free.length) p.box.setAttribute('aria-activedescendant', `${p.list.id}-${at}`);
  else p.box.removeAttribute('aria-activedescendant');
  p.list.querySelector('[aria-selected=true]')?.scrollIntoView({block: 'nearest'});
}

function hide(root) {
  const p = partsOf(root);
  p.list.hidden = true;
  p.box.setAttribute('aria-expanded', 'false');
  p.box.removeAttribute('aria-activedescendant');
}

function choose(root, value, selected) {
  const p = partsOf(root);
  const option = optionsOf(p.select).find((o) => o.value === value);
  if (!option) return;
  // The attribute too: Datastar's morph compares attributes, so with it a server render
  // that chose otherwise (an error, another tab's change) is what the page shows.
  option.toggleAttribute('selected', selected);
  option.selected = selected;
  p.select.dispatchEvent(new Event('input', {bubbles: true}));
  p.select.dispatchEvent(new Event('change', {bubbles: true}));
  sync(root);
}

function add(root, value) {
  const p = partsOf(root);
  const next = p.list.querySelector('[aria-selected=true]')?.nextElementSibling?.dataset.value;
  choose(root, value, true);
  p.box.value = '';
  show(root, next);
  p.box.focus();
}

function move(root, step) {
  const items = [...partsOf(root).list.querySelectorAll('[role=option]')];
  if (!items.length) return;
  const at = items.findIndex((li) => li.getAttribute('aria-selected') === 'true');
  show(root, items[(at + step + items.length) % items.length].dataset.value);
}

const rootOf = (node) => node instanceof Element ? node.closest('[data-multiselect]') : null;

document.addEventListener('keydown', (evt) => {
  const root = rootOf(evt.target);
  if (!root || !evt.target.matches('.ms-input') || evt.altKey || evt.ctrlKey || evt.metaKey) {
    return;
  }
  const p = partsOf(root);
  const open = !p.list.hidden;
  if (evt.key === 'ArrowDown' || evt.key === 'ArrowUp') {
    evt.preventDefault();
    if (open) move(root, evt.key === 'ArrowDown' ? 1 : -1);
    else show(root);
  } else if (evt.key === 'Enter') {
    const active = open && p.list.querySelector('[aria-selected=true]');
    if (active) add(root, active.dataset.value);
    if (active || p.box.value) evt.preventDefault();  // typed text never submits the form
  } else if (evt.key === 'Escape' && open) {
    evt.preventDefault();
    evt.stopPropagation();  // the list's Escape, not the drawer's
    hide(root);
  } else if (evt.key === 'Backspace' && !p.box.value) {
    const last = p.chips.lastElementChild?.querySelector('[data-value]');
    if (last) {
      evt.preventDefault();
      choose(root, last.dataset.value, false);
    }
  }
});

document.addEventListener('input', (evt) => {
  const root = rootOf(evt.target);
  if (root && evt.target.matches('.ms-input')) show(root);
});

document.addEventListener('mousedown', (evt) => {
  // A click in the list keeps the focus in the box.
  if (rootOf(evt.target) && evt.target.closest('.ms-list')) evt.preventDefault();
});

document.addEventListener('click', (evt) => {
  const target = evt.target instanceof Element ? evt.target : null;
  const root = rootOf(target);
  const label = target?.closest('label[for]');
  if (label) {
    const select = document.getElementById(label.htmlFor);
    const box = select?.closest('[data-multiselect]') && partsOf(select.parentElement)?.box;
    if (box) {
      evt.preventDefault();  // the label's own action would look for the hidden select
      box.focus();
    }
    return;
  }
  if (!root) return;
  const p = partsOf(root);
  const remove = target.closest('.ms-remove');
  const option = target.closest('.ms-option');
  if (remove) {
    choose(root, remove.dataset.value, false);
    p.box.focus();
  } else if (option) {
    add(root, option.dataset.value);
  } else if (target.closest('.ms-field')) {
    p.box.focus();
    show(root);
  }
});

document.addEventListener('focusout', (evt) => {
  const root = rootOf(evt.target);
  if (root && !root.contains(evt.relatedTarget) && partsOf(root)) hide(root);
});

// Draw every widget on the page, and again whenever the page changes (a morph, a patch).
const syncAll = () => document.querySelectorAll('[data-multiselect]').forEach(sync);
syncAll();
new MutationObserver(syncAll).observe(document.documentElement, {
  subtree: true, childList: true, attributes: true,
  attributeFilter: ['selected', 'aria-invalid', 'aria-describedby', 'value'],
});
