// The case-study explorer on /explore/: facets (AND across facets, OR
// within one), a text search, sorting, and the state in the URL's query
// string so a view can be bookmarked and the back button works.
//
// It reads search-index.json (written by `casebook build`, see
// src/render/data.rs for its shape). Everything it shows is set as text,
// never as HTML, so no value from the index can become markup.
(function () {
  "use strict";

  var root = document.getElementById("explorer");
  var fallback = document.getElementById("explorer-fallback");
  // The page says "Loading" until the index is here, or says why not.
  function fallBack(why) {
    var note = fallback && fallback.querySelector(".explorer-fallback-note");
    if (note) note.textContent = why + " You can browse the case studies by each of these instead.";
  }
  if (!root) return;
  if (!window.fetch || !window.URLSearchParams) {
    fallBack("This browser cannot run the explorer.");
    return;
  }
  var base = root.getAttribute("data-base") || "/";
  var form = root.querySelector(".explorer-form");
  var qInput = root.querySelector("#explorer-q");
  var sortSelect = root.querySelector("#explorer-sort");
  var facetsBox = root.querySelector(".explorer-facets");
  var statusEl = root.querySelector(".explorer-status");
  var list = root.querySelector(".explorer-list");
  var moreButton = root.querySelector(".explorer-more");
  var clearButton = root.querySelector(".explorer-clear");

  var wide = window.matchMedia("(min-width: 52rem)");
  var PAGE = 50; // results drawn at a time
  var SHOWN_VALUES = 8; // facet values shown before "Show all"

  var facets = []; // {name, title, singular, terms: [[name, slug]], bySlug, el, inputs, expanded}
  var docs = []; // {url, title, date, summary, terms: [[int]], text fields}
  var state = { q: "", sort: "", selected: {} }; // selected[facet] = Set-like object slug -> true
  var limit = PAGE;
  var lastPush = 0;

  // Lower case, accents removed, anything not a letter or digit a space,
  // padded with spaces so " word" finds words that start with "word".
  // `+` and `#` after a letter or digit stay part of the word, so "C++"
  // and "C#" are words of their own and not every word starting with c.
  function norm(s) {
    s = String(s || "").toLowerCase();
    if (s.normalize) s = s.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
    s = s.replace(/[^\p{L}\p{N}+#]+/gu, " ").replace(/(^|[^\p{L}\p{N}+#])[+#]+/gu, "$1 ");
    return " " + s.replace(/ +/g, " ").trim() + " ";
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function load(index) {
    facets = index.facets.map(function (f, fi) {
      var bySlug = {};
      f.terms.forEach(function (t, ti) { bySlug[t[1]] = ti; });
      return { name: f.name, title: f.title, singular: f.singular, title_in_text: f.title_in_text || f.title, terms: f.terms, bySlug: bySlug, index: fi, expanded: false, filter: "" };
    });
    docs = index.docs.map(function (d) {
      var names = [];
      d[4].forEach(function (ts, fi) {
        ts.forEach(function (ti) { names.push(facets[fi].terms[ti][0]); });
      });
      return {
        url: d[0], title: d[1], date: d[2], summary: d[3], terms: d[4], day: d[6] || d[2],
        nTitle: norm(d[1]), nTerms: norm(names.join(" ")), nSummary: norm(d[3]), nKeywords: norm(d[5])
      };
    });
  }

  // ---- state <-> URL
  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    state.q = params.get("q") || "";
    // An order the select does not offer (an old or mistyped link) is
    // ignored, so the control never shows blank.
    var sort = params.get("sort") || "";
    state.sort = ["relevance", "date", "oldest"].indexOf(sort) >= 0 ? sort : "";
    state.selected = {};
    facets.forEach(function (f) {
      var sel = {};
      params.getAll(f.name).forEach(function (slug) {
        if (Object.prototype.hasOwnProperty.call(f.bySlug, slug)) sel[slug] = true;
      });
      state.selected[f.name] = sel;
    });
    limit = PAGE;
  }

  function query() {
    var params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    facets.forEach(function (f) {
      Object.keys(state.selected[f.name]).sort().forEach(function (slug) { params.append(f.name, slug); });
    });
    if (state.sort) params.set("sort", state.sort);
    var s = params.toString();
    return s ? "?" + s : window.location.pathname;
  }

  // Facet clicks each get a history entry; typing replaces the entry it
  // made a moment ago, so the back button steps over whole searches.
  function saveUrl(typing) {
    var now = Date.now();
    var url = query();
    if (url === window.location.search || (url === window.location.pathname && !window.location.search)) return;
    if (typing && now - lastPush < 1500) {
      history.replaceState(null, "", url);
    } else {
      history.pushState(null, "", url);
    }
    lastPush = typing ? now : 0;
  }

  // ---- matching
  function queryWords() {
    return norm(state.q).trim().split(" ").filter(function (w) { return w.length > 0; });
  }

  // A score above zero when every word of the query starts a word of the
  // case study; title matches weigh most, then names, summary, body words.
  function score(d, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var w = " " + words[i];
      var s = 0;
      if (d.nTitle.indexOf(w) >= 0) s += 8;
      if (d.nTerms.indexOf(w) >= 0) s += 4;
      if (d.nSummary.indexOf(w) >= 0) s += 2;
      var k = d.nKeywords.indexOf(w);
      if (k >= 0) s += 1 + (1 - k / d.nKeywords.length);
      if (s === 0) return 0;
      total += s;
    }
    return total;
  }

  // Which selected facets a document fails (none, one: its index, or many).
  function failing(d) {
    var failed = -1;
    for (var fi = 0; fi < facets.length; fi++) {
      var sel = state.selected[facets[fi].name];
      var any = false, wanted = false;
      for (var slug in sel) { wanted = true; break; }
      if (!wanted) continue;
      var ts = d.terms[fi];
      for (var j = 0; j < ts.length; j++) {
        if (sel[facets[fi].terms[ts[j]][1]]) { any = true; break; }
      }
      if (!any) {
        if (failed >= 0) return -2;
        failed = fi;
      }
    }
    return failed;
  }

  function compute() {
    var words = queryWords();
    var counts = facets.map(function (f) { return new Array(f.terms.length).fill(0); });
    var results = [];
    docs.forEach(function (d) {
      var s = words.length ? score(d, words) : 1;
      if (s === 0) return;
      var failed = failing(d);
      if (failed === -2) return;
      // A value's count: the case studies it would match with the other
      // facets' filters as they are.
      for (var fi = 0; fi < facets.length; fi++) {
        if (failed >= 0 && failed !== fi) continue;
        var ts = d.terms[fi];
        for (var j = 0; j < ts.length; j++) counts[fi][ts[j]]++;
      }
      if (failed === -1) results.push({ doc: d, score: s });
    });
    var sort = state.sort || (words.length ? "relevance" : "date");
    results.sort(function (a, b) {
      if (sort === "relevance" && b.score !== a.score) return b.score - a.score;
      if (sort === "oldest") return a.doc.date < b.doc.date ? -1 : a.doc.date > b.doc.date ? 1 : 0;
      return a.doc.date < b.doc.date ? 1 : a.doc.date > b.doc.date ? -1 : 0;
    });
    return { results: results, counts: counts };
  }

  // ---- drawing
  function drawFacets(counts) {
    facetsBox.textContent = "";
    facets.forEach(function (f, fi) {
      if (!f.terms.length) return;
      var sel = state.selected[f.name];
      // Each facet folds away, so that on a phone the results are not
      // below a screenful of checkboxes; open on wide screens, or when
      // something in it is ticked.
      var nSelected = Object.keys(sel).length;
      if (f.open === undefined) f.open = wide.matches || nSelected > 0;
      var details = el("details", "facet");
      details.open = f.open;
      details.addEventListener("toggle", function () { f.open = details.open; });
      var summary = el("summary", null, f.title);
      if (nSelected) summary.appendChild(el("span", "facet-selected", " (" + nSelected + " selected)"));
      details.appendChild(summary);
      var fs = el("fieldset");
      fs.appendChild(el("legend", "vh", f.title));
      details.appendChild(fs);
      var order = f.terms.map(function (t, ti) { return ti; });
      order.sort(function (a, b) {
        var sa = sel[f.terms[a][1]] ? 1 : 0, sb = sel[f.terms[b][1]] ? 1 : 0;
        if (sa !== sb) return sb - sa;
        if (counts[fi][a] !== counts[fi][b]) return counts[fi][b] - counts[fi][a];
        return f.terms[a][0].localeCompare(f.terms[b][0]);
      });
      if (f.terms.length > 20) {
        var findId = "facet-find-" + f.name;
        var findLabel = el("label", "vh", "Filter " + f.title_in_text);
        findLabel.htmlFor = findId;
        var find = el("input", "facet-find");
        find.type = "search";
        find.id = findId;
        find.placeholder = "Filter " + f.title_in_text;
        find.value = f.filter;
        find.addEventListener("input", function () {
          f.filter = find.value;
          render(false);
          var again = document.getElementById(findId);
          if (again) { again.focus(); again.setSelectionRange(again.value.length, again.value.length); }
        });
        fs.appendChild(findLabel);
        fs.appendChild(find);
      }
      var filter = norm(f.filter).trim();
      if (filter) {
        order = order.filter(function (ti) { return sel[f.terms[ti][1]] || norm(f.terms[ti][0]).indexOf(" " + filter) >= 0; });
      }
      var ul = el("ul", "facet-values");
      var shown = f.expanded || filter ? order.length : Math.max(SHOWN_VALUES, Object.keys(sel).length);
      order.slice(0, shown).forEach(function (ti) {
        var t = f.terms[ti];
        var id = "f-" + f.name + "-" + t[1];
        var li = el("li");
        var box = el("input");
        box.type = "checkbox";
        box.id = id;
        box.name = f.name;
        box.value = t[1];
        box.checked = !!sel[t[1]];
        box.disabled = !box.checked && counts[fi][ti] === 0;
        box.addEventListener("change", function () {
          if (box.checked) sel[t[1]] = true; else delete sel[t[1]];
          limit = PAGE;
          saveUrl(false);
          render(false, id);
        });
        var label = el("label", null, t[0] + " ");
        label.htmlFor = id;
        label.appendChild(el("span", "count", String(counts[fi][ti])));
        li.appendChild(box);
        li.appendChild(label);
        ul.appendChild(li);
      });
      fs.appendChild(ul);
      if (order.length > shown || f.expanded) {
        var toggle = el("button", "facet-toggle", f.expanded ? "Show fewer" : "Show all " + order.length);
        toggle.type = "button";
        toggle.setAttribute("aria-expanded", f.expanded ? "true" : "false");
        toggle.addEventListener("click", function () {
          f.expanded = !f.expanded;
          render(false, "toggle-" + f.name);
        });
        toggle.id = "toggle-" + f.name;
        fs.appendChild(toggle);
      }
      facetsBox.appendChild(details);
    });
  }

  function termNames(d, name) {
    for (var fi = 0; fi < facets.length; fi++) {
      if (facets[fi].name === name) {
        return d.terms[fi].map(function (ti) { return facets[fi].terms[ti][0]; }).join(", ");
      }
    }
    return "";
  }

  function drawResults(results) {
    list.textContent = "";
    results.slice(0, limit).forEach(function (r) {
      var d = r.doc;
      var li = el("li", "card explorer-item");
      var ngo = termNames(d, "ngo");
      if (ngo) li.appendChild(el("p", "card-kicker", ngo));
      var h = el("h3", "card-title");
      var a = el("a", null, d.title);
      a.href = base + d.url;
      h.appendChild(a);
      li.appendChild(h);
      if (d.summary) li.appendChild(el("p", "card-summary", d.summary));
      // As the theme's card draws it: terms, then the date on its own line.
      var foot = el("div", "card-foot");
      var meta = el("p", "card-meta");
      ["sector", "country"].forEach(function (name) {
        var names = termNames(d, name);
        if (names) meta.appendChild(el("span", null, names));
      });
      if (meta.childNodes.length) foot.appendChild(meta);
      if (d.date) {
        // The date as the server wrote it, in the site's one format.
        var time = el("time", null, d.day);
        time.setAttribute("datetime", d.date);
        var p = el("p", "card-date");
        p.appendChild(time);
        foot.appendChild(p);
      }
      li.appendChild(foot);
      list.appendChild(li);
    });
    var n = results.length;
    statusEl.textContent = n === 0
      ? "No case studies match"
      : n === 1 ? "1 case study" : n.toLocaleString() + " case studies";
    moreButton.hidden = n <= limit;
    moreButton.textContent = "Show more (" + Math.min(PAGE, n - limit) + " of " + (n - limit) + " left)";
  }

  // Draws everything from the state; `focusId` is a control to give the
  // focus back to, since the facets are redrawn.
  function render(fromUrl, focusId) {
    if (fromUrl) {
      qInput.value = state.q;
      sortSelect.value = state.sort || (state.q ? "relevance" : "date");
    }
    var c = compute();
    drawFacets(c.counts);
    drawResults(c.results);
    var anyFilter = state.q || facets.some(function (f) { return Object.keys(state.selected[f.name]).length; });
    clearButton.disabled = !anyFilter;
    if (focusId) {
      var again = document.getElementById(focusId);
      if (again) again.focus();
    }
  }

  // ---- events
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    saveUrl(false);
  });
  qInput.addEventListener("input", function () {
    state.q = qInput.value;
    if (!state.sort) sortSelect.value = state.q ? "relevance" : "date";
    limit = PAGE;
    saveUrl(true);
    render(false);
  });
  sortSelect.addEventListener("change", function () {
    state.sort = sortSelect.value;
    saveUrl(false);
    render(false);
  });
  clearButton.addEventListener("click", function () {
    state.q = "";
    state.sort = "";
    facets.forEach(function (f) { state.selected[f.name] = {}; f.filter = ""; });
    limit = PAGE;
    saveUrl(false);
    render(true);
    qInput.focus();
  });
  moreButton.addEventListener("click", function () {
    limit += PAGE;
    render(false, null);
    moreButton.focus();
  });
  window.addEventListener("popstate", function () {
    readUrl();
    render(true);
  });

  fetch(root.getAttribute("data-index"))
    .then(function (r) {
      if (!r.ok) throw new Error(r.status + " " + r.statusText);
      return r.json();
    })
    .then(function (index) {
      load(index);
      readUrl();
      root.hidden = false;
      if (fallback) fallback.hidden = true;
      render(true);
    })
    .catch(function (e) {
      fallBack("The explorer could not load its index (" + e.message + ").");
    });
})();
