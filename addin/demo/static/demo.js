// The demo pages work without script; this only makes card inputs act on change, as Google's do.
// A card input with an `onChangeAction` comes with an "Apply" button (data-on-change) after it:
// with script on, the button is hidden and a change submits the form through it.

document.documentElement.classList.add("js");

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLElement)) return;
  const holder = input.closest(".w-field, .w-decorated");
  const apply = holder && holder.querySelector("button[data-on-change]");
  if (apply && apply.form) apply.form.requestSubmit(apply);
});
