// Loaded as a module so that no inline script is needed (Content-Security-Policy).
import { initAll } from "./govuk-frontend.min.js";
import { initCpvPickers } from "./cpv-picker.mjs";
import { initPrintButtons } from "./print-button.mjs";
import { initAnswers } from "./answers.mjs";
import { initImportProgress } from "./import-progress.mjs";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
initCpvPickers();
initPrintButtons();
initAnswers();
initImportProgress();
