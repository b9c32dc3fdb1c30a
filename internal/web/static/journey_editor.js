// The journey editor: draws a journey's definition as a flow of steps and
// edits it in place. The definition itself lives in the form's textarea
// (name "definition"), which is what the server receives and validates;
// without this script the textarea is the editor. No inline script and no
// HTML built from strings: every node is made with textContent, so a
// step's subject or a trait name can never become markup.
(function () {
  'use strict';

  var root = document.getElementById('journey-editor');
  var area = document.getElementById('journey-definition');
  if (!root || !area) return;
  var T = JSON.parse(document.getElementById('journey-editor-i18n').textContent || '{}');
  var OPTS = JSON.parse(document.getElementById('journey-editor-options').textContent || '{}');
  var STEP_TYPES = ['email', 'wecom', 'webhook', 'wait', 'branch', 'update', 'exit'];
  var OUTCOMES = ['opened', 'clicked', 'replied', 'sent', 'skipped', 'failed'];

  function t(key) { return T[key] || key; }

  function el(tag, attrs, kids) {
    var n = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'text') n.textContent = v;
        else if (k === 'className') n.className = v;
        else if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), v);
        else n.setAttribute(k, v === true ? '' : v);
      });
    }
    (kids || []).forEach(function (c) { if (c) n.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return n;
  }

  var def;
  var open = {}; // step ids whose fields are shown

  function load() {
    try {
      def = JSON.parse(area.value || '{}');
    } catch (e) {
      def = null;
    }
    if (!def || typeof def !== 'object' || Array.isArray(def)) {
      def = null;
      return false;
    }
    def.trigger = def.trigger || { event: '' };
    def.steps = Array.isArray(def.steps) ? def.steps : [];
    def.exit = Array.isArray(def.exit) ? def.exit : [];
    return true;
  }

  // save writes the definition back into the textarea, dropping empty
  // fields so that the JSON stays the one a person would write.
  function save() {
    var clean = JSON.parse(JSON.stringify(def, function (k, v) {
      if (v === '' || v === null || v === undefined) return undefined;
      if (Array.isArray(v) && v.length === 0 && k === 'exit') return undefined;
      if (k === 'headers' && v && typeof v === 'object' && Object.keys(v).length === 0) return undefined;
      return v;
    }));
    area.value = JSON.stringify(clean, null, 2);
    var name = document.getElementById('journey-name');
    if (name && name.value !== (def.name || '')) name.value = def.name || '';
  }

  function changed() { save(); render(); }

  function newID(type) {
    var n = 1;
    var taken = {};
    def.steps.forEach(function (s) { taken[s.id] = true; });
    while (taken[type + n]) n++;
    return type + n;
  }

  function newStep(type) {
    var s = { id: newID(type), type: type };
    switch (type) {
      case 'email': s.subject = ''; s.html = ''; s.text = ''; break;
      case 'wecom': s.kind = 'external'; s.content = ''; break;
      case 'webhook': s.url = 'https://'; break;
      case 'wait': s['for'] = '3d'; break;
      case 'branch': s['if'] = { step: '', outcome: 'opened' }; break;
      case 'update': s.stage = ''; break;
    }
    return s;
  }

  // field draws one labelled input bound to obj[key].
  function field(obj, key, label, kind, choices) {
    var input;
    var value = obj[key] === undefined || obj[key] === null ? '' : obj[key];
    if (choices) {
      input = el('select', { 'data-field': key });
      choices.forEach(function (c) {
        var o = el('option', { value: c[0], text: c[1] });
        if (String(value) === String(c[0])) o.selected = true;
        input.appendChild(o);
      });
    } else if (kind === 'textarea') {
      input = el('textarea', { rows: 6, 'data-field': key });
      input.value = value;
    } else {
      input = el('input', { type: kind || 'text', 'data-field': key });
      input.value = value;
    }
    input.addEventListener('change', function () {
      var v = input.value;
      if (kind === 'number') v = v === '' ? undefined : Number(v);
      if (key === 'value') {
        try { v = JSON.parse(v); } catch (e) { /* a plain string */ }
      }
      obj[key] = v;
      changed();
    });
    return el('label', { className: 'je-field' }, [el('span', { text: label }), input]);
  }

  function stepChoices(blank) {
    var c = [['', blank]];
    def.steps.forEach(function (s) { c.push([s.id, s.id + (s.name ? ' · ' + s.name : '') + ' (' + t('type.' + s.type) + ')']); });
    return c;
  }

  function stageChoices(blank) {
    var c = [['', blank]];
    (OPTS.stages || []).forEach(function (s) { c.push([s.key, s.label]); });
    return c;
  }

  function segmentField(obj, key, label) {
    if ((OPTS.segments || []).length === 0) return field(obj, key, label, 'number');
    var c = [['', '—']];
    OPTS.segments.forEach(function (s) { c.push([s.id, s.name]); });
    var f = field(obj, key, label, null, c);
    f.querySelector('select').addEventListener('change', function (e) {
      obj[key] = e.target.value === '' ? undefined : Number(e.target.value);
      changed();
    });
    return f;
  }

  // condKind says which group of a condition is set.
  function condKind(c) {
    if (c.segment) return 'segment';
    if (c.filter) return 'filter';
    if (c.step !== undefined || c.outcome) return 'outcome';
    if (c.stage) return 'stage';
    if (c.event !== undefined) return 'event';
    return 'outcome';
  }

  function condEditor(c, onKind) {
    var kind = condKind(c);
    var box = el('div', { className: 'je-cond' });
    var pick = el('select', { 'data-field': 'cond-kind' });
    ['outcome', 'segment', 'stage', 'event', 'filter'].forEach(function (k) {
      var o = el('option', { value: k, text: t('cond.' + k) });
      if (k === kind) o.selected = true;
      pick.appendChild(o);
    });
    pick.addEventListener('change', function () {
      Object.keys(c).forEach(function (k) { if (k !== 'not') delete c[k]; });
      switch (pick.value) {
        case 'outcome': c.step = ''; c.outcome = 'opened'; break;
        case 'segment': c.segment = (OPTS.segments && OPTS.segments[0] && OPTS.segments[0].id) || 1; break;
        case 'stage': c.stage = 'mql'; break;
        case 'event': c.event = ''; break;
        case 'filter': c.filter = { field: 'stage', op: 'eq', value: 'mql' }; break;
      }
      if (onKind) onKind();
      changed();
    });
    box.appendChild(el('label', { className: 'je-field' }, [el('span', { text: t('cond.kind') }), pick]));
    switch (kind) {
      case 'outcome':
        box.appendChild(field(c, 'step', t('cond.step'), null, stepChoices('—')));
        box.appendChild(field(c, 'outcome', t('cond.outcome'), null, OUTCOMES.map(function (o) { return [o, t('outcome.' + o)]; })));
        break;
      case 'segment':
        box.appendChild(segmentField(c, 'segment', t('cond.segment')));
        break;
      case 'stage':
        box.appendChild(field(c, 'stage', t('cond.stage'), null, stageChoices('—')));
        break;
      case 'event':
        box.appendChild(field(c, 'event', t('cond.event')));
        break;
      case 'filter':
        var fa = el('textarea', { rows: 3, 'data-field': 'filter' });
        fa.value = JSON.stringify(c.filter);
        fa.addEventListener('change', function () {
          try {
            c.filter = JSON.parse(fa.value);
            fa.classList.remove('je-bad');
            changed();
          } catch (e) {
            fa.classList.add('je-bad');
          }
        });
        box.appendChild(el('label', { className: 'je-field je-wide' }, [el('span', { text: t('cond.filter') }), fa]));
        break;
    }
    var not = el('input', { type: 'checkbox', 'data-field': 'not' });
    not.checked = !!c.not;
    not.addEventListener('change', function () { c.not = not.checked || undefined; changed(); });
    box.appendChild(el('label', { className: 'je-check' }, [not, el('span', { text: t('cond.not') })]));
    return box;
  }

  function stepFields(s) {
    var f = el('div', { className: 'je-fields' });
    f.appendChild(field(s, 'name', t('step.name')));
    switch (s.type) {
      case 'email':
        f.appendChild(field(s, 'subject', t('email.subject')));
        f.appendChild(el('div', { className: 'je-wide' }, [field(s, 'html', t('email.html'), 'textarea')]));
        f.appendChild(el('div', { className: 'je-wide' }, [field(s, 'text', t('email.text'), 'textarea')]));
        f.appendChild(el('p', { className: 'hint je-wide', text: t('email.vars') }));
        break;
      case 'wecom':
        f.appendChild(field(s, 'kind', t('wecom.kind'), null, [['external', t('wecom.external')], ['app', t('wecom.app')]]));
        if (s.kind === 'app') f.appendChild(field(s, 'to_user', t('wecom.to_user')));
        f.appendChild(el('div', { className: 'je-wide' }, [field(s, 'content', t('wecom.content'), 'textarea')]));
        break;
      case 'webhook':
        f.appendChild(el('div', { className: 'je-wide' }, [field(s, 'url', t('webhook.url'), 'url')]));
        break;
      case 'wait':
        var mode = s.until_event ? 'event' : (s.until ? 'until' : 'for');
        var m = field({ mode: mode }, 'mode', t('wait.mode'), null, [['for', t('wait.for')], ['until', t('wait.until')], ['event', t('wait.event')]]);
        m.querySelector('select').addEventListener('change', function (e) {
          delete s['for']; delete s.until; delete s.until_event; delete s.timeout;
          if (e.target.value === 'for') s['for'] = '3d';
          if (e.target.value === 'until') s.until = '09:00';
          if (e.target.value === 'event') { s.until_event = ''; s.timeout = '7d'; }
          changed();
        });
        f.appendChild(m);
        if (mode === 'for') f.appendChild(field(s, 'for', t('wait.span')));
        if (mode === 'until') f.appendChild(field(s, 'until', t('wait.clock'), 'time'));
        if (mode === 'event') {
          f.appendChild(field(s, 'until_event', t('wait.event_name')));
          f.appendChild(field(s, 'timeout', t('wait.timeout')));
        }
        break;
      case 'branch':
        s['if'] = s['if'] || { step: '', outcome: 'opened' };
        f.appendChild(el('div', { className: 'je-wide' }, [el('span', { className: 'je-label', text: t('branch.if') }), condEditor(s['if'])]));
        f.appendChild(field(s, 'then', t('branch.then'), null, stepChoices(t('branch.next'))));
        f.appendChild(field(s, 'else', t('branch.else'), null, stepChoices(t('branch.next'))));
        break;
      case 'update':
        f.appendChild(field(s, 'stage', t('update.stage'), null, stageChoices('—')));
        f.appendChild(field(s, 'trait', t('update.trait')));
        f.appendChild(field({ value: s.value === undefined ? '' : (typeof s.value === 'string' ? s.value : JSON.stringify(s.value)) }, 'value', t('update.value')));
        f.lastChild.querySelector('input').addEventListener('change', function (e) {
          var v = e.target.value;
          try { v = JSON.parse(v); } catch (err) { /* a plain string */ }
          s.value = v === '' ? undefined : v;
          changed();
        });
        f.appendChild(field(s, 'score_delta', t('update.score'), 'number'));
        f.appendChild(field(s, 'owner', t('update.owner')));
        f.appendChild(field(s, 'task', t('update.task')));
        break;
    }
    if (s.type !== 'branch' && s.type !== 'exit') {
      f.appendChild(field(s, 'next', t('step.next'), null, stepChoices(t('step.next_default'))));
    }
    var old = s.id;
    var id = field({ id: s.id }, 'id', t('step.id'));
    id.querySelector('input').addEventListener('change', function (e) {
      var nu = e.target.value.trim();
      if (!nu || nu === old) return;
      // a renamed step keeps every reference to it
      def.steps.forEach(function (o) {
        ['next', 'then', 'else'].forEach(function (k) { if (o[k] === old) o[k] = nu; });
        if (o['if'] && o['if'].step === old) o['if'].step = nu;
      });
      def.exit.forEach(function (c) { if (c.step === old) c.step = nu; });
      if (open[old]) { delete open[old]; open[nu] = true; }
      s.id = nu;
      changed();
    });
    f.insertBefore(id, f.firstChild);
    return f;
  }

  function summary(s) {
    switch (s.type) {
      case 'email': return s.subject || '';
      case 'wecom': return (s.content || '').slice(0, 60);
      case 'webhook': return s.url || '';
      case 'wait':
        if (s.until_event) return t('wait.event') + ': ' + s.until_event + ' (≤ ' + (s.timeout || '') + ')';
        if (s.until) return t('wait.until') + ' ' + s.until;
        return t('wait.for') + ' ' + (s['for'] || '');
      case 'branch':
        var c = s['if'] || {};
        var k = condKind(c);
        var what = k === 'outcome' ? (c.step + ' · ' + t('outcome.' + c.outcome)) : k === 'segment' ? t('cond.segment') + ' ' + c.segment : k === 'stage' ? t('cond.stage') + ' ' + c.stage : k === 'event' ? c.event : t('cond.filter');
        return (c.not ? t('cond.not') + ' ' : '') + what;
      case 'update':
        return [s.stage && t('update.stage') + ' ' + s.stage, s.trait && s.trait, s.score_delta && ('±' + s.score_delta), s.owner, s.task].filter(Boolean).join(' · ');
    }
    return '';
  }

  // after is where a step goes when it names no next step.
  function after(i) {
    var s = def.steps[i];
    if (s.type === 'exit') return '';
    if (s.next) return s.next;
    return i + 1 < def.steps.length ? def.steps[i + 1].id : '';
  }

  function move(i, d) {
    var j = i + d;
    if (j < 0 || j >= def.steps.length) return;
    var s = def.steps[i];
    def.steps[i] = def.steps[j];
    def.steps[j] = s;
    changed();
  }

  function addMenu(index) {
    var sel = el('select', { className: 'je-add', 'aria-label': t('step.add'), 'data-insert': index });
    sel.appendChild(el('option', { value: '', text: '+ ' + t('step.add') }));
    STEP_TYPES.forEach(function (ty) { sel.appendChild(el('option', { value: ty, text: t('type.' + ty) })); });
    sel.addEventListener('change', function () {
      if (!sel.value) return;
      var s = newStep(sel.value);
      def.steps.splice(index, 0, s);
      open[s.id] = true;
      changed();
    });
    return el('div', { className: 'je-insert' }, [sel]);
  }

  function triggerPanel() {
    var tr = def.trigger;
    var kind = tr.segment ? 'segment' : tr.stage ? 'stage' : tr.date_trait !== undefined ? 'date_trait' : 'event';
    var box = el('div', { className: 'je-trigger je-fields' });
    var pick = field({ kind: kind }, 'kind', t('trigger.kind'), null, [['event', t('trigger.event')], ['stage', t('trigger.stage')], ['segment', t('trigger.segment')], ['date_trait', t('trigger.date_trait')]]);
    pick.querySelector('select').addEventListener('change', function (e) {
      def.trigger = {};
      if (e.target.value === 'event') def.trigger.event = '';
      if (e.target.value === 'stage') def.trigger.stage = 'mql';
      if (e.target.value === 'segment') def.trigger.segment = (OPTS.segments && OPTS.segments[0] && OPTS.segments[0].id) || 1;
      if (e.target.value === 'date_trait') { def.trigger.date_trait = ''; def.trigger.at = '09:00'; }
      changed();
    });
    box.appendChild(pick);
    if (kind === 'event') box.appendChild(field(tr, 'event', t('trigger.event_name')));
    if (kind === 'stage') box.appendChild(field(tr, 'stage', t('trigger.stage'), null, stageChoices('—')));
    if (kind === 'segment') box.appendChild(segmentField(tr, 'segment', t('trigger.segment')));
    if (kind === 'date_trait') {
      box.appendChild(field(tr, 'date_trait', t('trigger.trait')));
      box.appendChild(field(tr, 'offset_days', t('trigger.offset'), 'number'));
      box.appendChild(field(tr, 'at', t('trigger.at'), 'time'));
    }
    box.appendChild(field(def, 'reentry', t('reentry'), null, [['never', t('reentry.never')], ['after_exit', t('reentry.after_exit')], ['always', t('reentry.always')]]));
    def.goal = def.goal || {};
    box.appendChild(field(def.goal, 'stage', t('goal'), null, stageChoices(t('goal.default'))));
    return box;
  }

  function exitPanel() {
    var box = el('div', { className: 'je-exits' });
    def.exit.forEach(function (c, i) {
      box.appendChild(el('div', { className: 'je-exit' }, [
        condEditor(c),
        el('button', { type: 'button', className: 'btn btn-quiet btn-small', text: t('remove'), onclick: function () { def.exit.splice(i, 1); changed(); } })
      ]));
    });
    box.appendChild(el('button', { type: 'button', className: 'btn btn-quiet btn-small', id: 'je-add-exit', text: '+ ' + t('exit.add'), onclick: function () { def.exit.push({ stage: 'sql' }); changed(); } }));
    return box;
  }

  function stepCard(s, i) {
    var isOpen = !!open[s.id];
    var head = el('div', { className: 'je-step-head' }, [
      el('span', { className: 'je-type je-type-' + s.type, text: t('type.' + s.type) }),
      el('strong', { className: 'je-id', text: s.name || s.id }),
      el('span', { className: 'je-summary muted', text: summary(s) }),
      el('span', { className: 'spacer' }),
      el('button', { type: 'button', className: 'btn btn-quiet btn-small', 'aria-label': t('up'), title: t('up'), text: '↑', onclick: function () { move(i, -1); } }),
      el('button', { type: 'button', className: 'btn btn-quiet btn-small', 'aria-label': t('down'), title: t('down'), text: '↓', onclick: function () { move(i, 1); } }),
      el('button', { type: 'button', className: 'btn btn-quiet btn-small je-toggle', 'aria-expanded': isOpen ? 'true' : 'false', text: isOpen ? t('close') : t('edit'), onclick: function () { open[s.id] = !isOpen; render(); } }),
      el('button', { type: 'button', className: 'btn btn-quiet btn-small', text: t('remove'), onclick: function () {
        def.steps.splice(i, 1);
        changed();
      } })
    ]);
    var card = el('div', { className: 'je-step', 'data-step': s.id, 'data-type': s.type }, [head]);
    if (isOpen) card.appendChild(stepFields(s));
    var links = el('div', { className: 'je-links muted' });
    if (s.type === 'branch') {
      links.appendChild(el('span', { className: 'je-yes', text: t('branch.yes') + ' → ' + (s.then || after(i) || t('end')) }));
      links.appendChild(el('span', { className: 'je-no', text: t('branch.no') + ' → ' + (s['else'] || after(i) || t('end')) }));
    } else if (s.type === 'exit' || !after(i)) {
      links.appendChild(el('span', { text: '■ ' + t('end') }));
    } else if (s.next) {
      links.appendChild(el('span', { text: '↪ ' + s.next }));
    }
    card.appendChild(links);
    return card;
  }

  function render() {
    root.textContent = '';
    if (!def) {
      root.appendChild(el('div', { className: 'alert', role: 'alert', text: t('bad_json') }));
      return;
    }
    root.appendChild(el('section', { className: 'panel je-panel' }, [el('h2', { text: t('trigger') }), triggerPanel()]));
    var flow = el('div', { className: 'je-flow', id: 'je-flow' });
    flow.appendChild(el('div', { className: 'je-start', text: '● ' + t('start') }));
    flow.appendChild(addMenu(0));
    def.steps.forEach(function (s, i) {
      flow.appendChild(stepCard(s, i));
      flow.appendChild(addMenu(i + 1));
    });
    root.appendChild(el('section', { className: 'panel je-panel' }, [el('h2', { text: t('steps') }), flow]));
    root.appendChild(el('section', { className: 'panel je-panel' }, [el('h2', { text: t('exit') }), el('p', { className: 'hint', text: t('exit.hint') }), exitPanel()]));
  }

  area.addEventListener('change', function () { if (load()) render(); else { def = null; render(); } });
  var name = document.getElementById('journey-name');
  if (name) {
    name.addEventListener('change', function () { if (def) { def.name = name.value; save(); } });
  }
  var toggle = document.getElementById('journey-json-toggle');
  var raw = document.getElementById('journey-json');
  if (toggle && raw) {
    raw.hidden = true;
    toggle.hidden = false;
    toggle.addEventListener('click', function () {
      raw.hidden = !raw.hidden;
      toggle.setAttribute('aria-expanded', raw.hidden ? 'false' : 'true');
    });
  }
  if (load()) {
    if (name && name.value && !def.name) def.name = name.value;
    save();
  }
  render();
})();
