// parc web UI: the only script. Filters apply as soon as a choice changes
// (the Filter button still works without JavaScript).
document.addEventListener("change", function (e) {
  var el = e.target;
  if (el.classList && el.classList.contains("autosubmit") && el.form) {
    el.form.submit();
  }
});
