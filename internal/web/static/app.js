// revloop pages: draws the charts whose data each page embeds as JSON
// (<script type="application/json" class="chart-data">), with Apache
// ECharts served by revloop itself. No inline script: the pages' Content
// Security Policy allows only scripts from this origin.
(function () {
  'use strict';

  var zh = (document.documentElement.lang || '').indexOf('zh') === 0;
  var palette = ['#4338ca', '#0ea5e9', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#14b8a6', '#f97316', '#64748b', '#ec4899', '#84cc16', '#0f766e'];

  function compact(v) {
    var a = Math.abs(v);
    if (zh) {
      if (a >= 1e8) return trim(v / 1e8, 2) + '亿';
      if (a >= 1e4) return trim(v / 1e4, 1) + '万';
      return trim(v, 0);
    }
    if (a >= 1e9) return trim(v / 1e9, 2) + 'B';
    if (a >= 1e6) return trim(v / 1e6, 2) + 'M';
    if (a >= 1e3) return trim(v / 1e3, 1) + 'K';
    return trim(v, 0);
  }

  function trim(v, digits) {
    return Number(v.toFixed(digits)).toLocaleString(zh ? 'zh-CN' : 'en-US', { maximumFractionDigits: digits });
  }

  // format prints a value for an axis (short) or a tooltip (full).
  function format(kind, v, full) {
    if (v === null || v === undefined || isNaN(v)) return '—';
    switch (kind) {
      case 'money':
        return '¥' + (full ? Number(v).toLocaleString(zh ? 'zh-CN' : 'en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : compact(v));
      case 'percent':
        return (v * 100).toFixed(full ? 1 : 0) + '%';
      case 'ratio':
        return Number(v).toFixed(2) + '×';
      case 'number':
        return full ? trim(v, 1) : compact(v);
      default:
        return full ? Number(v).toLocaleString(zh ? 'zh-CN' : 'en-US') : compact(v);
    }
  }

  function axisFormat(kind) {
    return function (v) { return format(kind, v, false); };
  }

  function option(spec) {
    var base = {
      color: palette,
      animation: false,
      textStyle: { fontFamily: 'inherit' },
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0, type: 'scroll' },
      tooltip: { trigger: 'axis', confine: true }
    };
    var series = spec.series || [];
    if (spec.kind === 'funnel') {
      var s = series[0] || { data: [] };
      base.tooltip = { trigger: 'item', confine: true, valueFormatter: function (v) { return format(spec.format, v, true); } };
      base.legend = { show: false };
      base.series = [{
        type: 'funnel', sort: 'none', gap: 2, left: '10%', width: '80%', minSize: '8%',
        label: { show: true, position: 'inside', formatter: function (p) { return p.name + '  ' + format(spec.format, p.value, true); } },
        data: spec.x.map(function (name, i) { return { name: name, value: s.data[i] }; })
      }];
      return base;
    }
    if (spec.kind === 'pie') {
      var p = series[0] || { data: [] };
      base.tooltip = { trigger: 'item', confine: true, valueFormatter: function (v) { return format(spec.format, v, true); } };
      base.series = [{
        type: 'pie', radius: ['42%', '70%'], top: 24, avoidLabelOverlap: true,
        label: { formatter: '{b}: {d}%' },
        data: spec.x.map(function (name, i) { return { name: name, value: p.data[i] }; })
      }];
      return base;
    }
    var horizontal = spec.kind === 'hbar';
    var category = { type: 'category', data: spec.x, axisTick: { alignWithLabel: true }, axisLabel: { hideOverlap: true } };
    var values = [{ type: 'value', axisLabel: { formatter: axisFormat(spec.format) }, splitLine: { lineStyle: { color: '#eef0f4' } } }];
    if (spec.right) {
      values.push({ type: 'value', axisLabel: { formatter: axisFormat(spec.right) }, splitLine: { show: false } });
    }
    if (horizontal) {
      category.inverse = true;
      base.xAxis = values[0];
      base.yAxis = category;
    } else {
      base.xAxis = category;
      base.yAxis = values;
    }
    base.tooltip.valueFormatter = undefined;
    base.tooltip.formatter = function (items) {
      var out = items.length ? items[0].axisValueLabel : '';
      items.forEach(function (it) {
        var s = series[it.seriesIndex] || {};
        var kind = s.axis === 1 && spec.right ? spec.right : spec.format;
        out += '<br>' + it.marker + ' ' + escapeHTML(it.seriesName) + ': <b>' + format(kind, it.value, true) + '</b>';
      });
      return out;
    };
    base.series = series.map(function (s) {
      var type = s.kind || (spec.kind === 'line' ? 'line' : 'bar');
      var out = { name: s.name, type: type, data: s.data, emphasis: { focus: 'series' } };
      if (spec.kind === 'stacked' && type === 'bar') out.stack = s.stack || 'total';
      if (s.stack) out.stack = s.stack;
      if (s.axis === 1 && !horizontal) out.yAxisIndex = 1;
      if (type === 'line') { out.smooth = true; out.symbolSize = 6; out.connectNulls = false; }
      if (type === 'bar') out.barMaxWidth = 28;
      return out;
    });
    return base;
  }

  function escapeHTML(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function draw(root) {
    if (typeof echarts === 'undefined') return;
    var scripts = (root || document).querySelectorAll('script.chart-data');
    Array.prototype.forEach.call(scripts, function (script) {
      var el = document.getElementById(script.getAttribute('data-for'));
      if (!el || echarts.getInstanceByDom(el)) return;
      var spec;
      try { spec = JSON.parse(script.textContent); } catch (e) { return; }
      var chart = echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option(spec));
      el.setAttribute('data-drawn', 'true');
    });
  }

  var resizing;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      Array.prototype.forEach.call(document.querySelectorAll('.chart[data-drawn]'), function (el) {
        var c = echarts.getInstanceByDom(el);
        if (c) c.resize();
      });
    }, 150);
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { draw(document); });
  } else {
    draw(document);
  }
  // Fragments htmx swaps in may carry charts too.
  document.addEventListener('htmx:load', function (e) { draw(e.target); });
})();
