// The page works without this script; it only adds keyboard shortcuts:
// "/" jumps to the search box, Ctrl+Enter (or Cmd+Enter) in it searches.
"use strict";
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("q");
  if (!box) return;
  const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    box.focus();
    box.select();
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === box) {
    event.preventDefault();
    box.form.requestSubmit();
  }
});
