// The questionnaire on a bid page (issue 17): a live word count under each
// answer (the server counts the same way, len(text.split()), and is the
// judge), an autosave of the whole form every 30 seconds and when a field
// loses the focus, and a copy of each answer on this device, written as it is
// typed, so that a session that ends before a save loses nothing: when the
// page comes back with an older answer than the device's copy, the copy is
// put back in the box with a notice, to be saved. A copy is cleared once the
// server holds the same text.

const AUTOSAVE_MS = 30000;

export function countWords(text) {
  const words = text.trim().split(/\s+/);
  return words[0] === "" ? 0 : words.length;
}

function showCount(textarea) {
  const counter = document.getElementById(`${textarea.id}-count`);
  if (!counter) return;
  const words = countWords(textarea.value);
  const limit = Number(textarea.dataset.wordLimit || 0);
  const plural = words === 1 ? "" : "s";
  counter.textContent = limit
    ? `You have ${words.toLocaleString("en-GB")} word${plural} of ${limit.toLocaleString("en-GB")}`
    : `You have ${words.toLocaleString("en-GB")} word${plural}`;
  counter.classList.toggle("govuk-error-message", Boolean(limit) && words > limit);
}

function storageKey(form, textarea) {
  return `${form.dataset.storageKey}:${textarea.name}`;
}

function readCopy(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage switched off: the autosave still works
  }
}

function writeCopy(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* storage full or switched off */
  }
}

function clearCopy(key) {
  try {
    window.localStorage.removeItem(key);
  } catch {
    /* nothing to clear */
  }
}

function restoreCopies(form, textareas) {
  let restored = false;
  for (const textarea of textareas) {
    const key = storageKey(form, textarea);
    const copy = readCopy(key);
    if (copy === null) continue;
    if (copy === textarea.value) {
      clearCopy(key); // the server has it
      continue;
    }
    textarea.value = copy;
    const mark = document.getElementById(`${textarea.id}-restored`);
    if (mark) mark.hidden = false;
    restored = true;
  }
  if (restored) {
    const notice = document.getElementById("restored-notice");
    if (notice) notice.hidden = false;
  }
}

function autosaver(form, textareas) {
  const status = document.getElementById("autosave-status");
  let dirty = false;
  let saving = false;
  const save = async () => {
    if (!dirty || saving) return;
    saving = true;
    dirty = false;
    const data = new FormData(form);
    for (const input of form.querySelectorAll("input[type=file]")) data.delete(input.name);
    const sent = new Map(textareas.map((t) => [t, t.value]));
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", Accept: "application/json" },
        redirect: "manual",
      });
      const type = response.headers.get("Content-Type") || "";
      if (!response.ok || !type.includes("application/json")) throw new Error("not saved");
      const answer = await response.json();
      if (!answer.saved) throw new Error("not saved");
      for (const [textarea, value] of sent) {
        if (textarea.value === value) clearCopy(storageKey(form, textarea));
      }
      if (status) status.textContent = `Draft saved automatically at ${answer.saved_at} (UK time).`;
    } catch {
      dirty = true;
      if (status) {
        status.textContent =
          "Your draft could not be saved automatically. What you typed is kept on this device: save your draft.";
      }
    } finally {
      saving = false;
    }
  };
  form.addEventListener("input", () => {
    dirty = true;
  });
  form.addEventListener("change", () => {
    dirty = true;
  });
  form.addEventListener("focusout", (event) => {
    if (event.target.type !== "file") save();
  });
  window.setInterval(save, AUTOSAVE_MS);
}

// Signing out forgets every copy kept on this device: the next person to use
// it never sees them (each copy is also kept under its own person's key).
function forgetCopiesOnSignOut(scope) {
  for (const form of scope.querySelectorAll("form[data-sign-out]")) {
    form.addEventListener("submit", () => {
      try {
        const keys = [];
        for (let i = 0; i < window.localStorage.length; i += 1) {
          const key = window.localStorage.key(i);
          if (key && key.startsWith("lt-bid-")) keys.push(key);
        }
        keys.forEach((key) => window.localStorage.removeItem(key));
      } catch {
        /* storage switched off: nothing kept */
      }
    });
  }
}

export function initAnswers(scope = document) {
  forgetCopiesOnSignOut(scope);
  for (const form of scope.querySelectorAll("form[data-answers-form]")) {
    const textareas = Array.from(form.querySelectorAll("textarea[data-answer]"));
    restoreCopies(form, textareas);
    for (const textarea of textareas) {
      showCount(textarea);
      textarea.addEventListener("input", () => {
        showCount(textarea);
        writeCopy(storageKey(form, textarea), textarea.value);
      });
    }
    autosaver(form, textareas);
  }
}
