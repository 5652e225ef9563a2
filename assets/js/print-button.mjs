// "Print this letter" buttons: hidden until this runs (without JavaScript the
// page says to use the browser's own Print command).
export function initPrintButtons(scope = document) {
  for (const button of scope.querySelectorAll("[data-print-button]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
}
