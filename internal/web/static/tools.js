// revloop tool pages (imports, links, rules, settings): small helpers that
// the forms work without. No inline script: the Content Security Policy
// allows only scripts from this origin.
(function () {
  'use strict';

  // An import form refuses a file over the server's limit before it is
  // sent, with the same message the server would give.
  function guardUpload(form) {
    var limit = Number(form.getAttribute('data-limit')) || 0;
    var input = form.querySelector('input[type="file"]');
    var warn = document.getElementById('import-too-large');
    var submit = form.querySelector('button[type="submit"]');
    if (!input || !limit) return;
    function tooBig() {
      var f = input.files && input.files[0];
      return !!f && f.size > limit;
    }
    function check() {
      var over = tooBig();
      if (warn) warn.hidden = !over;
      if (submit) submit.disabled = over;
      return !over;
    }
    input.addEventListener('change', check);
    form.addEventListener('submit', function (e) {
      if (!check()) { e.preventDefault(); return; }
      if (submit) { submit.disabled = true; submit.setAttribute('aria-busy', 'true'); }
    });
  }

  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll('form[data-limit]'), guardUpload);
    Array.prototype.forEach.call((root || document).querySelectorAll('[data-print]'), function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
  }

  // A page watching a job that had not ended when it was drawn shows its
  // full outcome (every bad row, the figures) once the job ends.
  document.addEventListener('htmx:load', function (e) {
    var el = e.target;
    if (!el || !el.matches || !el.matches('.job[data-state="succeeded"], .job[data-state="failed"]')) return;
    if (el.closest('[data-reload-when-done]')) window.location.reload();
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { init(document); });
  } else {
    init(document);
  }
})();
