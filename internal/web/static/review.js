// The review page's print button: no inline script (the pages' Content
// Security Policy allows only scripts from this origin).
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('[data-print]') : null;
    if (b) {
      e.preventDefault();
      window.print();
    }
  });
})();
