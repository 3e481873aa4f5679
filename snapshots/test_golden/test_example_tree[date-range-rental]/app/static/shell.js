// The menu's keys and groups (templates/_nav.html). Listeners sit on the document, so the
// menu the server patches in on a screen swap needs nothing re-attached.
// Enter/Space toggle a group (it is a <button>); ArrowUp/ArrowDown/Home/End move through
// what is shown; ArrowRight opens a group and enters it; ArrowLeft and Escape close the
// focused group, or the one around the focus and return to its button (Escape with nothing
// to close is the sidebar's: base.html closes it on a phone).
const nav = () => document.getElementById('nav');
const shown = (el) => el.getClientRects().length > 0;
const focusables = () => [...nav().querySelectorAll('a, button')].filter(shown);
const toggleOf = (group) => group.querySelector(':scope > button[aria-expanded]');

function setOpen(button, open) {
  button.setAttribute('aria-expanded', open ? 'true' : 'false');
}

function enter(button) {
  setOpen(button, true);
  const first = [...document.getElementById(button.getAttribute('aria-controls'))
    .querySelectorAll(':scope > li > a, :scope > li > button:not([data-nav-back])')].find(shown);
  (first || focusables()[0])?.focus();
}

// The group whose submenu holds this element (none at the top level).
function around(el) {
  const list = el.closest('li')?.parentElement;
  return list?.parentElement?.classList.contains('nav-group') ? list.parentElement : null;
}

function leave(group) {
  if (!group) return false;
  const button = toggleOf(group);
  setOpen(button, false);
  button.focus();
  return true;
}

window.appUi.focusNav = () => {
  const current = nav().querySelector('a[aria-current=page]');
  (current && shown(current) ? current : focusables()[0])?.focus();
};

document.addEventListener('click', (evt) => {
  const button = evt.target.closest?.('#nav button');
  if (!button) return;
  if (button.hasAttribute('data-nav-back')) {
    leave(around(button));
  } else if (button.getAttribute('aria-expanded') === 'true') {
    setOpen(button, false);
  } else if (!window.appUi.wide()) {
    enter(button);  // a drill-down: the button itself is gone, focus what replaced it
  } else {
    setOpen(button, true);
  }
});

document.addEventListener('keydown', (evt) => {
  const el = evt.target;
  if (!(el instanceof Element) || !el.closest('#nav') || evt.altKey || evt.ctrlKey || evt.metaKey) return;
  const list = focusables();
  const at = list.indexOf(el);
  const group = el.matches('button[aria-expanded]') ? el : null;
  switch (evt.key) {
    case 'ArrowDown': list[(at + 1) % list.length]?.focus(); break;
    case 'ArrowUp': list[(at - 1 + list.length) % list.length]?.focus(); break;
    case 'Home': list[0]?.focus(); break;
    case 'End': list[list.length - 1]?.focus(); break;
    case 'ArrowRight':
      if (!group) return;
      enter(group);
      break;
    case 'ArrowLeft':
    case 'Escape':
      if (group?.getAttribute('aria-expanded') === 'true') setOpen(group, false);
      else if (!leave(around(el))) return;
      evt.stopPropagation();  // Escape: the sidebar stays open, only the group closed
      break;
    default: return;
  }
  evt.preventDefault();
});

// Moments the server writes in UTC (<time datetime data-local>, templating.local_datetime)
// are shown in this browser's time zone: on load, and whenever a patch brings new ones (the
// marker goes once done; a morph that restores the server's text restores it too).
const moment = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  timeZoneName: 'short',
});

function localize(root) {
  const found = root.matches?.('time[data-local]') ? [root] : [];
  for (const el of [...found, ...(root.querySelectorAll?.('time[data-local]') ?? [])]) {
    const when = new Date(el.dateTime);
    el.removeAttribute('data-local');
    if (!Number.isNaN(when.getTime())) el.textContent = moment.format(when);
  }
}

localize(document);
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.type === 'attributes') localize(change.target);
    else change.addedNodes.forEach((node) => node.nodeType === 1 && localize(node));
  }
}).observe(document.documentElement, {
  subtree: true, childList: true, attributes: true, attributeFilter: ['data-local'],
});
