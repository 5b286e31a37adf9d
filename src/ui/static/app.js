// Progressive enhancement only: every page works without this file.
// Counts down the reviewer's lease on the case screen, and brings a refused form's problems
// into view.
(function () {
  'use strict';
  function left(ms) {
    if (ms <= 0) { return 'lease expired'; }
    var s = Math.floor(ms / 1000);
    var m = Math.floor(s / 60);
    s = s % 60;
    return m + ' min ' + (s < 10 ? '0' : '') + s + ' s left';
  }
  function tick() {
    var els = document.querySelectorAll('[data-countdown]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var ms = Date.parse(el.getAttribute('data-countdown')) - Date.now();
      el.textContent = left(ms);
      if (ms <= 120000) { el.classList.add('urgent'); }
    }
  }
  document.addEventListener('DOMContentLoaded', function () {
    // After a refused form, take keyboard and screen-reader users to the list of problems.
    var problems = document.querySelector('.error-summary[tabindex]');
    if (problems) {
      problems.scrollIntoView();
      problems.focus();
    }
    if (document.querySelector('[data-countdown]')) {
      tick();
      window.setInterval(tick, 1000);
    }
  });
})();
