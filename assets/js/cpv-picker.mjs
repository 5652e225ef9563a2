// Progressive enhancement for CPV code fields: a search box under the field
// that finds codes by words or digits and adds the chosen one to the list.
// Without JavaScript the field and the "Find CPV codes" page still work.

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function enhance(textarea) {
  const url = textarea.dataset.searchUrl;
  const id = `${textarea.id}-search`;
  const wrapper = el("div", { class: "govuk-form-group lt-cpv-picker" });
  const label = el("label", { class: "govuk-label", for: id }, "Search for a code to add");
  const row = el("div", { class: "lt-cpv-picker__row" });
  const input = el("input", { class: "govuk-input govuk-!-width-two-thirds", id, type: "search", autocomplete: "off" });
  const button = el("button", { type: "button", class: "govuk-button govuk-button--secondary govuk-!-margin-bottom-0 govuk-!-margin-left-2" }, "Search");
  const status = el("p", { class: "govuk-body-s govuk-!-margin-top-2", role: "status", "aria-live": "polite" });
  const results = el("ul", { class: "govuk-list lt-cpv-picker__results" });
  row.append(input, button);
  wrapper.append(label, row, status, results);
  textarea.closest(".govuk-form-group").after(wrapper);

  const codes = () => textarea.value.split(/[\n,;]+/).map((c) => c.trim()).filter(Boolean);

  async function search() {
    const q = input.value.trim();
    results.replaceChildren();
    if (!q) return;
    status.textContent = "Searching…";
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" } });
      const data = await response.json();
      status.textContent = data.results.length ? `${data.results.length} codes found` : "No codes found";
      for (const item of data.results) {
        const add = el("button", { type: "button", class: "govuk-button govuk-button--secondary govuk-!-margin-bottom-1" }, `Add ${item.code}`);
        add.append(el("span", { class: "govuk-visually-hidden" }, ` ${item.description}`));
        add.addEventListener("click", () => {
          if (!codes().includes(item.code)) {
            textarea.value = [...codes(), item.code].join("\n");
          }
          status.textContent = `Added ${item.code} ${item.description}`;
        });
        const li = el("li");
        li.append(add, el("span", { class: "govuk-body govuk-!-margin-left-2" }, item.description));
        results.append(li);
      }
    } catch {
      status.textContent = "Search is not working right now. Use the Find CPV codes page instead.";
    }
  }

  button.addEventListener("click", search);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });
}

export function initCpvPickers(root = document) {
  for (const textarea of root.querySelectorAll("textarea[data-module='lt-cpv-picker']")) {
    enhance(textarea);
  }
}
