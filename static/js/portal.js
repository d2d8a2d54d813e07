// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Copy-to-clipboard buttons: <button data-copy="#selector">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectText(source); });
    } else {
      selectText(source);
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // "Set your organization": offer only the teams of the chosen org.
  document.querySelectorAll("form[data-team-filter]").forEach(function (form) {
    var org = form.querySelector("select[name=org]");
    var team = form.querySelector("select[name=team]");
    if (!org || !team) return;
    var sync = function () {
      team.querySelectorAll("optgroup").forEach(function (group) {
        var match = group.label === org.value;
        group.hidden = !match;
        group.disabled = !match;
      });
      var chosen = team.options[team.selectedIndex];
      if (chosen && chosen.parentNode.disabled) team.value = "";
    };
    org.addEventListener("change", sync);
    sync();
  });

  // Narrow screens: the side navigation folds behind the Menu button (CSS shows it when .nav-open;
  // the "js" class keeps it visible for a browser without scripts).
  document.documentElement.classList.add("js");
  var navToggle = document.querySelector("[data-nav-toggle]");
  if (navToggle) {
    navToggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Close an open top-bar menu when clicking elsewhere or pressing Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) { menu.removeAttribute("open"); });
  });
})();
