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

// Overlays. Dialogs are native modal <dialog>s (templates/_macros.html confirm): the browser
// stacks them in the top layer, makes everything under the top one inert and gives Escape
// to the top one only. Here: remember who opened each and give the focus back to it when it
// closes (Escape, Cancel, or its action).
const openers = new WeakMap();

window.appUi.openDialog = (id, opener) => {
  const dialog = document.getElementById(id);
  if (!(dialog instanceof HTMLDialogElement) || dialog.open) return;
  openers.set(dialog, opener ?? document.activeElement);
  dialog.showModal();
  if (toasts()?.children.length) {
    raise(toasts());  // still readable above it (though inert, as all outside the dialog)
    place();
  }
};

document.addEventListener('close', (evt) => {
  const dialog = evt.target;
  if (!(dialog instanceof HTMLDialogElement)) return;
  const opener = openers.get(dialog);
  openers.delete(dialog);
  place();
  if (opener?.isConnected && shown(opener) && !opener.closest('[inert]')) opener.focus();
}, true);  // close does not bubble

// Toasts (templates/_toast.html, appended to #toasts by app/web.py toast()). Errors stay
// until closed; the others go after data-toast-timeout ms, counted only while the stack is
// neither hovered nor holding the focus. At most MAX_TOASTS are shown: the oldest goes first
// (an error only when nothing else is left to drop).
const MAX_TOASTS = 3;
const toasts = () => document.getElementById('toasts');
const timers = new Map();  // toast -> {left, started, id}

function held() {
  const box = toasts();
  return box.matches(':hover') || box.contains(document.activeElement);
}

function run(toast) {
  const t = timers.get(toast);
  if (!t || t.id || held()) return;
  t.started = Date.now();
  t.id = setTimeout(() => dismiss(toast), t.left);
}

function pause(toast) {
  const t = timers.get(toast);
  if (!t?.id) return;
  clearTimeout(t.id);
  t.id = 0;
  t.left = Math.max(0, t.left - (Date.now() - t.started));
}

function dismiss(toast) {
  const t = timers.get(toast);
  if (t?.id) clearTimeout(t.id);
  timers.delete(toast);
  const hadFocus = toast.contains(document.activeElement);
  const next = toast.nextElementSibling || toast.previousElementSibling;
  toast.remove();
  if (hadFocus) next?.querySelector('[data-toast-close]')?.focus();
  place();
}

// Bottom (above the tab bar on phones), or the top when the stack would cover a primary
// action (a submit button, a .btn-primary) there and not at the top: on the page, or in the
// top dialog when one is open (a drawer's footer).
function covers(box) {
  const r = box.getBoundingClientRect();
  const top = [...document.querySelectorAll('dialog:modal')].pop();
  return [...(top ?? document).querySelectorAll('.btn-primary, button[type=submit], button:not([type])')].some((el) => {
    if (el.closest('#toasts') || (!top && el.closest('dialog')) || !shown(el)) return false;
    const b = el.getBoundingClientRect();
    return b.right > r.left && b.left < r.right && b.bottom > r.top && b.top < r.bottom;
  });
}

function place() {
  const box = toasts();
  if (!box?.children.length) return;
  const bar = document.getElementById('tabbar');
  const above = bar && shown(bar) ? Math.max(0, innerHeight - bar.getBoundingClientRect().top) : 0;
  box.style.setProperty('--toasts-bottom', `calc(${above}px + 0.75rem${above ? '' : ' + env(safe-area-inset-bottom)'})`);
  box.dataset.place = 'bottom';
  if (!covers(box)) return;
  box.dataset.place = 'top';
  if (covers(box)) box.dataset.place = 'bottom';
}

// The stack is a manual popover, in the top layer: shown again (only while a dialog is
// open: hiding would drop a focus held in it) so it comes above a dialog opened since.
function raise(box) {
  if (!box.showPopover) return;
  if (box.matches(':popover-open')) {
    if (!document.querySelector('dialog:modal')) return;
    box.hidePopover();
  }
  box.showPopover();
}

function added(toast) {
  if (!(toast instanceof HTMLElement) || !toast.matches('[data-toast]')) return;
  raise(toasts());
  const timeout = Number(toast.dataset.toastTimeout);
  if (timeout > 0) {
    timers.set(toast, {left: timeout, started: 0, id: 0});
    run(toast);
  }
  const stack = [...toasts().children];
  while (stack.length > MAX_TOASTS) {
    const oldest = stack.find((el) => el.dataset.toast !== 'error') ?? stack[0];
    stack.splice(stack.indexOf(oldest), 1);
    dismiss(oldest);
  }
  place();
}

function setupToasts() {
  const box = toasts();
  if (!box) return;
  raise(box);
  [...box.children].forEach(added);
  new MutationObserver((changes) => {
    for (const change of changes) change.addedNodes.forEach(added);
  }).observe(box, {childList: true});
  const hold = () => timers.forEach((_, toast) => pause(toast));
  const release = () => setTimeout(() => held() || timers.forEach((_, toast) => run(toast)));
  box.addEventListener('mouseenter', hold);
  box.addEventListener('focusin', hold);
  box.addEventListener('mouseleave', release);
  box.addEventListener('focusout', release);
  box.addEventListener('click', (evt) => {
    const close = evt.target.closest?.('[data-toast-close]');
    if (close) dismiss(close.closest('[data-toast]'));
  });
  addEventListener('resize', place);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', setupToasts);
else setupToasts();

// The many-ref picker (multiselect.js, static): imported once, when the page first has a
// [data-multiselect] field — on load, or after a patch swaps a form with one in.
const pickerSrc = document.querySelector('meta[name="multiselect-src"]')?.content;
const pickerWatch = new MutationObserver(() => loadPicker());
function loadPicker() {
  if (!pickerSrc || !document.querySelector('[data-multiselect]')) return;
  pickerWatch.disconnect();
  import(pickerSrc);
}
pickerWatch.observe(document.documentElement, {subtree: true, childList: true});
loadPicker();
