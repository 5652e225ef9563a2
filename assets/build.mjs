// Builds the static files the portal serves from build/static/.
// GOV.UK Frontend is compiled from its Sass with Arial instead of GDS Transport
// and without any crown or GOV.UK images: a council's site is not on gov.uk.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "static");
const frontend = join(root, "node_modules", "govuk-frontend", "dist");

mkdirSync(join(out, "css"), { recursive: true });
mkdirSync(join(out, "js"), { recursive: true });
mkdirSync(join(out, "images"), { recursive: true });

const css = sass.compile(join(root, "assets", "scss", "portal.scss"), {
  loadPaths: [frontend],
  style: "compressed",
  quietDeps: true,
  silenceDeprecations: ["import", "global-builtin", "slash-div"],
});
writeFileSync(join(out, "css", "portal.css"), css.css);

copyFileSync(join(frontend, "govuk", "govuk-frontend.min.js"), join(out, "js", "govuk-frontend.min.js"));
for (const script of ["init.mjs", "cpv-picker.mjs", "answers.mjs", "import-progress.mjs"]) {
  copyFileSync(join(root, "assets", "js", script), join(out, "js", script));
}
copyFileSync(join(root, "assets", "js", "print-button.mjs"), join(out, "js", "print-button.mjs"));
copyFileSync(join(root, "assets", "images", "favicon.svg"), join(out, "images", "favicon.svg"));
writeFileSync(join(out, ".built"), new Date().toISOString() + "\n");
console.log(`Built ${out}`);
