// The command palette's keys (templates/_palette.html). Ctrl-K / Cmd-K or the top bar's
// button opens the dialog; the search box keeps the focus and points aria-activedescendant
// at the active option: ArrowDown/ArrowUp (Home/End with Ctrl) move it, Enter opens it,
// Escape closes the dialog (native) and the focus returns to where it was. The results are
// replaced by the server on every answer: the first option becomes the active one again.
const dialog = document.getElementById('palette');
const input = document.getElementById('palette-input');
const options = () => [...dialog.querySelectorAll('#palette-results [role=option]')];
let opener = null;

// The shortcut as this platform names it (Cmd-K works everywhere, Ctrl-K too).
if (/Mac|iPhone|iPad/.test(navigator.platform)) {
  const button = document.getElementById('palette-open');
  button?.setAttribute('title', 'Search (⌘K)');
  for (const kbd of button?.querySelectorAll('kbd') ?? []) kbd.textContent = '⌘K';
}

function activate(option) {
  for (const o of options()) o.setAttribute('aria-selected', o === option ? 'true' : 'false');
  if (option) {
    input.setAttribute('aria-activedescendant', option.id);
    option.scrollIntoView({block: 'nearest'});
  } else {
    input.removeAttribute('aria-activedescendant');
  }
}

function open() {
  if (dialog.open) return;
  opener = document.activeElement;
  // The shell's overlay system when there (focus return, toasts kept above); else native.
  if (window.appUi?.openDialog) window.appUi.openDialog('palette', opener); else dialog.showModal();
  input.focus();
  input.select();
  activate(options()[0]);
}

dialog.addEventListener('close', () => {
  const back = opener;
  opener = null;
  if (back instanceof HTMLElement && back.isConnected) back.focus();
});

// A click on the backdrop (outside the dialog's box) closes it, as Escape does.
dialog.addEventListener('click', (evt) => {
  if (evt.target === dialog) dialog.close();
  if (evt.target.closest?.('#palette-close')) dialog.close();
});

document.addEventListener('keydown', (evt) => {
  if ((evt.ctrlKey || evt.metaKey) && !evt.altKey && !evt.shiftKey && evt.key.toLowerCase() === 'k') {
    evt.preventDefault();
    if (dialog.open) dialog.close(); else open();
  }
});

document.addEventListener('click', (evt) => {
  if (evt.target.closest?.('#palette-open')) open();
});

// The text the shown results answer (the server's cleaning: trimmed, single spaces).
const typed = () => input.value.trim().split(/\s+/).join(' ').slice(0, 100);
const answered = () => document.getElementById('palette-body')?.dataset.q === typed();
let pendingEnter = false;  // Enter before the answer to the latest text: open when it lands

input.addEventListener('keydown', (evt) => {
  const list = options();
  const at = list.findIndex((o) => o.getAttribute('aria-selected') === 'true');
  let next = null;
  if (evt.key === 'ArrowDown') next = list[Math.min(at + 1, list.length - 1)];
  else if (evt.key === 'ArrowUp') next = list[Math.max(at - 1, 0)];
  else if (evt.key === 'Home' && evt.ctrlKey) next = list[0];
  else if (evt.key === 'End' && evt.ctrlKey) next = list[list.length - 1];
  else if (evt.key === 'Enter' && !evt.isComposing) {
    evt.preventDefault();
    if (!answered()) pendingEnter = true;
    else if (at >= 0) list[at].click();
    return;
  } else {
    if (evt.key !== 'Shift') pendingEnter = false;
    return;
  }
  evt.preventDefault();
  pendingEnter = false;
  if (next) activate(next);
});

// A new answer from the server (Datastar morphs #palette-body, resetting aria-selected):
// the first option is active; an Enter that waited for this answer opens it.
new MutationObserver(() => {
  const list = options();
  if (!list.some((o) => o.getAttribute('aria-selected') === 'true')) activate(list[0]);
  if (pendingEnter && answered()) {
    pendingEnter = false;
    list[0]?.click();
  }
}).observe(dialog, {childList: true, subtree: true, attributes: true, attributeFilter: ['aria-selected', 'data-q']});
