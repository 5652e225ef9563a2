// The progress of a spending import (ledger): polls its JSON every two
// seconds and updates the bar and the counts; without JavaScript the page
// has a "Refresh" link instead.
const NUMBER = new Intl.NumberFormat("en-GB");

export function initImportProgress(scope = document) {
  for (const box of scope.querySelectorAll("[data-import-progress]")) {
    if (box.hasAttribute("data-finished")) continue;
    const url = box.getAttribute("data-url");
    const bar = box.querySelector("progress");
    const tick = async () => {
      let data;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" } });
        if (!response.ok) return window.setTimeout(tick, 5000);
        data = await response.json();
      } catch {
        return window.setTimeout(tick, 5000);
      }
      for (const field of box.querySelectorAll("[data-field]")) {
        const value = data[field.getAttribute("data-field")];
        if (value === null || value === undefined) continue;
        field.textContent = typeof value === "number" ? NUMBER.format(value) : value;
      }
      if (bar) {
        bar.value = data.percent;
        bar.textContent = `${data.percent}%`;
      }
      if (data.finished) {
        window.location.reload();
        return;
      }
      window.setTimeout(tick, 2000);
    };
    const refresh = box.querySelector("[data-refresh-link]");
    if (refresh) refresh.closest("p").hidden = true;
    window.setTimeout(tick, 1000);
  }
}
