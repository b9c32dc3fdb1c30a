// The segment builder: edits a filter (docs/segments.md) as groups and
// conditions, keeps the JSON in the form's textarea, and previews who
// matches. Without this script the JSON textarea still works.
(function () {
  "use strict";
  var root = document.getElementById("segment-builder");
  var area = document.getElementById("f-filter");
  if (!root || !area) { return; }
  var meta = JSON.parse(root.getAttribute("data-fields"));
  var kind = root.getAttribute("data-kind");
  var readonly = root.hasAttribute("data-readonly");
  var fields = meta[kind];
  var W = meta.words;

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (kids || []).forEach(function (c) { if (c) { e.appendChild(c); } });
    if (readonly && (tag === "input" || tag === "select" || tag === "button")) { e.disabled = true; }
    return e;
  }

  function fieldOf(name) {
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.name === name || (f.name.slice(-1) === "." && name.indexOf(f.name) === 0)) { return f; }
    }
    return null;
  }

  // toTree reads a filter into groups {mode, items} and leaves.
  function toTree(c) {
    if (c.all) { return {mode: "all", items: c.all.map(toTree)}; }
    if (c.any) { return {mode: "any", items: c.any.map(toTree)}; }
    if (c.not) {
      if (c.not.any) { return {mode: "none", items: c.not.any.map(toTree)}; }
      if (c.not.all) { return {mode: "notall", items: c.not.all.map(toTree)}; }
      return {mode: "none", items: [toTree(c.not)]};
    }
    return {leaf: c};
  }
  function fromTree(n) {
    if (n.leaf) { return n.leaf; }
    var items = n.items.map(fromTree);
    if (n.mode === "any") { return {any: items}; }
    if (n.mode === "none") { return {not: {any: items}}; }
    if (n.mode === "notall") { return {not: {all: items}}; }
    return {all: items};
  }

  var tree;
  try {
    tree = toTree(JSON.parse(area.value));
    if (tree.leaf) { tree = {mode: "all", items: [tree]}; }
  } catch (e) {
    return; // the JSON is edited by hand until it parses
  }

  function sync() { area.value = JSON.stringify(fromTree(tree)); }

  function valueText(v) {
    if (Array.isArray(v)) { return v.join(", "); }
    return v === undefined || v === null ? "" : String(v);
  }

  function parseValue(f, op, text) {
    var numeric = f.type === "number" || f.type === "engaged" || f.type === "user" ||
      (f.type === "trait" && ["gt", "gte", "lt", "lte"].indexOf(op) >= 0);
    function one(s) {
      s = s.trim();
      if (numeric && s !== "" && !isNaN(Number(s))) { return Number(s); }
      return s;
    }
    if (op === "in" || op === "not_in") {
      return text.split(/[,，]/).map(one).filter(function (x) { return x !== ""; });
    }
    return one(text);
  }

  function leafRow(node, parent, index) {
    var c = node.leaf;
    var f = fieldOf(c.field) || fields[0];
    var row = el("div", {"class": "seg-row"});
    var fsel = el("select", {"aria-label": "field", "class": "seg-field"});
    fields.forEach(function (x) {
      var o = el("option", {value: x.name, text: x.label});
      if (x === f) { o.selected = true; }
      fsel.appendChild(o);
    });
    fsel.onchange = function () {
      var nf = fieldOf(fsel.value);
      node.leaf = {field: nf.name.slice(-1) === "." ? nf.name + "x" : nf.name, op: nf.ops[0]};
      if (nf.enum) { node.leaf.value = nf.enum[0]; }
      if (nf.type === "behaviour") { node.leaf.value = ""; }
      render();
    };
    row.appendChild(fsel);
    if (f.name.slice(-1) === ".") {
      var key = el("input", {type: "text", "class": "seg-key", maxlength: "64",
        placeholder: f.type === "trait" ? W.trait_name : W.consent_channel, value: c.field.slice(f.name.length)});
      key.onchange = function () { c.field = f.name + key.value.trim(); sync(); };
      row.appendChild(key);
    }
    var osel = el("select", {"aria-label": "operator", "class": "seg-op"});
    f.ops.forEach(function (op) {
      var o = el("option", {value: op, text: meta.ops[op]});
      if (op === c.op) { o.selected = true; }
      osel.appendChild(o);
    });
    osel.onchange = function () {
      c.op = osel.value;
      if (c.op === "is_set" || c.op === "is_not_set") { delete c.value; }
      sync(); render();
    };
    row.appendChild(osel);
    if (c.op !== "is_set" && c.op !== "is_not_set") {
      var input;
      if (f.enum && c.op !== "in" && c.op !== "not_in") {
        input = el("select", {"class": "seg-value", "aria-label": W.value});
        f.enum.forEach(function (v) {
          var o = el("option", {value: v, text: v});
          if (v === c.value) { o.selected = true; }
          input.appendChild(o);
        });
        if (c.value === undefined) { c.value = f.enum[0]; }
      } else {
        input = el("input", {type: "text", "class": "seg-value", "aria-label": W.value, value: valueText(c.value), maxlength: "2000",
          placeholder: (c.op === "in" || c.op === "not_in") ? W.list_hint : W.value});
      }
      input.onchange = function () { c.value = parseValue(f, c.op, input.value); sync(); };
      row.appendChild(input);
    }
    function numberBox(name, label) {
      var box = el("input", {type: "number", "class": "seg-small seg-" + name, min: "0", value: c[name] === undefined ? "" : c[name], "aria-label": label, placeholder: label});
      box.onchange = function () {
        if (box.value === "") { delete c[name]; } else { c[name] = Number(box.value); }
        sync();
      };
      return el("label", {"class": "seg-num"}, [document.createTextNode(label + " "), box]);
    }
    if (f.type === "behaviour") { row.appendChild(numberBox("min", W.min)); row.appendChild(numberBox("days", W.days)); }
    if (f.type === "engaged") { row.appendChild(numberBox("min_engagement", W.min_engagement)); row.appendChild(numberBox("days", W.days)); }
    var rm = el("button", {type: "button", "class": "btn btn-quiet btn-small seg-remove", text: W.remove});
    rm.onclick = function () { parent.items.splice(index, 1); sync(); render(); };
    row.appendChild(rm);
    return row;
  }

  function groupBox(node, parent, index, depth) {
    var box = el("div", {"class": "seg-group", "data-depth": String(depth)});
    var msel = el("select", {"class": "seg-mode", "aria-label": "group"});
    [["all", W.all], ["any", W.any], ["none", W.not], ["notall", W.not + " (" + W.all + ")"]].forEach(function (m) {
      var o = el("option", {value: m[0], text: m[1]});
      if (m[0] === node.mode) { o.selected = true; }
      msel.appendChild(o);
    });
    msel.onchange = function () { node.mode = msel.value; sync(); };
    var head = el("div", {"class": "seg-group-head"}, [msel]);
    if (parent) {
      var rm = el("button", {type: "button", "class": "btn btn-quiet btn-small seg-remove-group", text: W.remove});
      rm.onclick = function () { parent.items.splice(index, 1); sync(); render(); };
      head.appendChild(rm);
    }
    box.appendChild(head);
    node.items.forEach(function (child, i) {
      box.appendChild(child.leaf ? leafRow(child, node, i) : groupBox(child, node, i, depth + 1));
    });
    if (!readonly) {
      var add = el("button", {type: "button", "class": "btn btn-quiet btn-small seg-add", text: W.add_condition});
      add.onclick = function () {
        var f = fields[0];
        node.items.push({leaf: {field: f.name, op: f.ops[0], value: f.enum ? f.enum[0] : ""}});
        sync(); render();
      };
      var actions = el("div", {"class": "seg-actions"}, [add]);
      if (depth < 4) {
        var addg = el("button", {type: "button", "class": "btn btn-quiet btn-small seg-add-group", text: W.add_group});
        addg.onclick = function () {
          var f = fields[0];
          node.items.push({mode: "any", items: [{leaf: {field: f.name, op: f.ops[0], value: f.enum ? f.enum[0] : ""}}]});
          sync(); render();
        };
        actions.appendChild(addg);
      }
      box.appendChild(actions);
    }
    return box;
  }

  function render() {
    root.textContent = "";
    root.appendChild(groupBox(tree, null, 0, 0));
  }
  area.addEventListener("change", function () {
    try {
      var t = toTree(JSON.parse(area.value));
      tree = t.leaf ? {mode: "all", items: [t]} : t;
      render();
    } catch (e) { /* kept as typed; the server names what is wrong */ }
  });
  render();

  var btn = document.getElementById("segment-preview");
  var out = document.getElementById("segment-preview-result");
  if (btn && out) {
    btn.addEventListener("click", function () {
      out.textContent = "…";
      var filter;
      try { filter = JSON.parse(area.value); } catch (e) { out.textContent = W.preview_failed + ": " + e.message; return; }
      fetch("/segments/preview", {method: "POST", headers: {"Content-Type": "application/json"}, credentials: "same-origin",
        body: JSON.stringify({kind: kind, filter: filter, sample: 10})})
        .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, j: j}; }); })
        .then(function (res) {
          out.textContent = "";
          if (!res.ok) { out.appendChild(el("div", {"class": "alert", role: "alert", id: "preview-error", text: res.j.error || W.preview_failed})); return; }
          out.appendChild(el("p", {id: "preview-count", text: W.matches.replace("{n}", res.j.count.toLocaleString())}));
          if (res.j.sample.length) {
            var ul = el("ul", {id: "preview-sample"});
            res.j.sample.forEach(function (m) {
              var a = el("a", {href: (kind === "account" ? "/accounts/" : "/persons/") + m.id, text: m.name || ("#" + m.id)});
              ul.appendChild(el("li", {}, [a, document.createTextNode(m.detail ? " · " + m.detail : "")]));
            });
            out.appendChild(el("p", {"class": "hint", text: W.sample}));
            out.appendChild(ul);
          }
        })
        .catch(function () { out.textContent = W.preview_failed; });
    });
  }
  var del = document.getElementById("segment-delete");
  if (del) {
    del.addEventListener("click", function (e) {
      if (!window.confirm(del.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  }
})();
