// The page: state lives in the URL query (view; for profiles p, si, focus, ignore, hide,
// show, g, fn, q, sort; for goroutines gd, gstate, gmatch, gexact, glabels, ghide; for
// series ss); every change rewrites it, and loading a URL restores the same view. Tabs
// show only for the kinds loaded.
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var filterKeys = ['p', 'si', 'focus', 'ignore', 'hide', 'show', 'g'];
  var profileViews = ['top', 'flame', 'peek', 'source'];
  var params = new URLSearchParams(location.search);
  var topRows = [], flameApi = null, meta = null;

  function get(k, d) { var v = params.get(k); return v === null || v === '' ? d : v; }
  function set(k, v) { if (v === null || v === undefined || v === '') params.delete(k); else params.set(k, v); }
  function save() { history.replaceState(null, '', '?' + params.toString()); }
  function apiQuery(extra) {
    var q = new URLSearchParams();
    filterKeys.forEach(function (k) { if (params.get(k)) q.set(k, params.get(k)); });
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }
  function fetchJson(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
      return r.json();
    });
  }
  function showError(e) { $('error').textContent = e ? String(e.message || e) : ''; }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function headline(h) {
    var s = h.sample_type + ' (' + h.unit + '): total ' + h.total_label;
    if (h.shown !== h.total) s += ', showing ' + h.shown_label;
    if (h.filters.length) s += ' [' + h.filters.join(', ') + ']';
    $('headline').textContent = s;
  }
  function fnLink(name) { return '<a class="fn" data-fn="' + esc(name) + '">' + esc(name) + '</a>'; }

  function renderTop() {
    var sort = get('sort', 'flat');
    var rows = topRows.slice();
    rows.sort(function (a, b) {
      if (sort === 'name') return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
      return b[sort] - a[sort];
    });
    $('top').querySelector('tbody').innerHTML = rows.map(function (r) {
      return '<tr><td>' + r.flat_label + '</td><td>' + r.flat_pct + '</td><td>' + r.sum_pct + '</td><td>' +
        r.cum_label + '</td><td>' + r.cum_pct + '</td><td class="name">' + fnLink(r.name) + '</td></tr>';
    }).join('');
  }
  function loadTop() {
    return fetchJson('api/top?' + apiQuery()).then(function (d) { headline(d.head); topRows = d.rows; renderTop(); });
  }
  function edgesTable(title, edges) {
    return '<div><h3>' + title + '</h3><table><tbody>' + edges.map(function (e) {
      return '<tr><td>' + e.value + '</td><td class="name">' + fnLink(e.name) + '</td></tr>';
    }).join('') + '</tbody></table></div>';
  }
  function peekHtml(p) {
    return '<h3>' + esc(p.name) + ' &mdash; flat ' + p.flat + ', cum ' + p.cum + '</h3><div class="edges" style="display:flex;gap:30px">' +
      edgesTable('Callers', p.callers) + edgesTable('Callees', p.callees) + '</div>';
  }
  function loadNeighbours() {
    var fn = get('fn', '');
    if (!fn) { $('neighbours').innerHTML = ''; return Promise.resolve(); }
    return fetchJson('api/peek?' + apiQuery({fn: fn})).then(function (d) { $('neighbours').innerHTML = peekHtml(d.peek); })
      .catch(function () { $('neighbours').innerHTML = ''; });
  }
  function loadFlame() {
    return fetch('api/flame.svg?' + apiQuery()).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(t); });
      return r.text();
    }).then(function (text) {
      $('flame').innerHTML = text.replace(/^<\?xml[^>]*>/, '');
      var svg = $('flame').querySelector('svg');
      flameApi = flameInit(svg);
      svg.addEventListener('flameselect', function (ev) { set('fn', ev.detail.name); save(); loadNeighbours(); });
      if (get('fn', '')) flameApi.zoom(get('fn', ''));
      var q = get('q', '');
      $('search').value = q;
      if (q) runSearch(q);
      return loadNeighbours();
    });
  }
  function runSearch(q) {
    if (!flameApi) return;
    if (!q) { flameApi.resetSearch(); $('matched').textContent = ''; return; }
    var share = flameApi.search(q);
    $('matched').textContent = share < 0 ? 'bad regular expression' : 'matched ' + share.toFixed(2) + '% of the total';
  }
  function loadPeek() {
    var fn = get('fn', '');
    if (!fn) { $('peek').textContent = 'Pick a function in the top table or the flame graph.'; return Promise.resolve(); }
    return fetchJson('api/peek?' + apiQuery({fn: fn})).then(function (d) { headline(d.head); $('peek').innerHTML = peekHtml(d.peek); });
  }
  function loadSource() {
    var fn = get('fn', '');
    if (!fn) { $('source').textContent = 'Pick a function in the top table or the flame graph.'; return Promise.resolve(); }
    return fetchJson('api/source?' + apiQuery({fn: fn})).then(function (d) {
      headline(d.head);
      var s = d.source;
      $('source').innerHTML = '<h3>' + esc(s.name) + ' <small>' + esc(s.file) + '</small></h3><pre class="src">' +
        '<b>' + 'flat'.padStart(10) + ' ' + 'cum'.padStart(10) + '  line</b>\n' +
        s.lines.map(function (l) {
          var row = String(l.flat || '.').padStart(10) + ' ' + String(l.cum || '.').padStart(10) + ' ' + String(l.line).padStart(5) + '  ' + esc(l.text);
          return l.cum ? '<span class="hot">' + row + '</span>' : row;
        }).join('\n') + '</pre>';
    });
  }
  function groupHtml(g) {
    var head = '<b class="count">' + g.count + '</b>';
    if (g.state) head += ' <span class="state">' + esc(g.state) + '</span>';
    if (g.wait) {
      var w = g.wait, unit = w.max_minutes === 1 ? ' minute' : ' minutes';
      head += ' <span class="wait">[' + (w.min_minutes === w.max_minutes ? w.max_minutes : w.min_minutes + '~' + w.max_minutes) + unit + ']</span>';
    }
    if (g.locked) head += ' <span class="locked">[locked to thread]</span>';
    if (g.headline) head += ' in <span class="headline">' + esc(g.headline) + '</span>';
    var loc = function (f) { return f.file ? esc(f.file) + ':' + f.line : ''; };
    var created = g.created_by ? '<div class="created">created by <span class="fn">' + esc(g.created_by.function) + '</span>' +
      (g.created_by.file ? ' at ' + loc(g.created_by) : '') + '</div>' : '';
    // Ids, names and labels as the CLI's text view lists them.
    var extra = '';
    if (g.ids.length) {
      var ids = g.ids.slice(0, 12).join(' ') + (g.ids.length > 12 ? ' and ' + (g.ids.length - 12) + ' more' : '');
      extra += '<div class="created ids">ids: ' + ids + '</div>';
    }
    if (g.names.length) extra += '<div class="created">names: ' + esc(g.names.join(', ')) + '</div>';
    g.labels.forEach(function (set) {
      extra += '<div class="created labels">labels: ' + esc(Object.keys(set).map(function (k) { return k + '=' + set[k]; }).join(' ')) + '</div>';
    });
    var stack = '<table class="stack"><tbody>' + g.stack.map(function (f) {
      return '<tr><td class="fn"><a class="gfn" title="show only goroutines with this function" data-fn="' + esc(f.function) + '">' +
        esc(f.function) + '</a></td><td class="loc">' + loc(f) + '</td></tr>';
    }).join('') + (g.elided ? '<tr><td class="fn muted">...additional frames elided...</td><td></td></tr>' : '') + '</tbody></table>';
    return '<div class="group" data-count="' + g.count + '" data-state="' + esc(g.state || '') + '"><div class="ghead">' + head + '</div>' + created + extra + stack + '</div>';
  }
  function loadGoroutines() {
    var q = new URLSearchParams();
    q.set('d', get('gd', '0'));
    if (get('gstate', '')) q.set('state', get('gstate', ''));
    if (get('gmatch', '')) q.set('match', get('gmatch', ''));
    ['exact_args', 'by_labels', 'hide_runtime'].forEach(function (k, i) {
      if (get(['gexact', 'glabels', 'ghide'][i], '')) q.set(k, 'true');
    });
    return fetchJson('api/goroutines?' + q.toString()).then(function (d) {
      var s = d.total + ' goroutine' + (d.total === 1 ? '' : 's') + ' in ' + d.groups.length + ' group' + (d.groups.length === 1 ? '' : 's');
      if (d.total !== d.unfiltered_total) s += ' (of ' + d.unfiltered_total + ' in the dump)';
      $('headline').textContent = d.format_name + ': ' + s + (d.headlines.length ? ' — ' + d.headlines.join('; ') : '');
      $('groups').innerHTML = d.groups.map(groupHtml).join('');
    });
  }
  function loadSeries() {
    return fetchJson('api/series?s=' + encodeURIComponent(get('ss', '0'))).then(function (d) {
      $('headline').textContent = d.name + ': ' + d.samples + ' readings' + (d.start ? ' from ' + d.start : '') + ', ' + d.charts.length + ' charts';
      $('charts').innerHTML = d.charts.map(function (c) {
        return '<div class="chart-box" data-chart="' + esc(c.id) + '" data-points="' + c.points + '"><h3>' + esc(c.title) + '</h3>' + c.svg + '</div>';
      }).join('');
    });
  }
  function pctText(x) { return (x >= 0 ? '+' : '') + (100 * x).toFixed(1) + '%'; }
  function loadCausal() {
    return fetchJson('api/causal?c=' + encodeURIComponent(get('cc', '0'))).then(function (d) {
      $('headline').textContent = d.name + ': ' + d.experiments + ' experiments over ' + (d.runtime_ns / 1e9).toFixed(1) + 's, lines ranked by impact';
      $('ranking').tBodies[0].innerHTML = d.curves.map(function (c) {
        var fit = c.slope === null ? ['N/A', 'N/A'] : [c.slope.toFixed(3), c.r2.toFixed(2)];
        return '<tr><td class="name">' + esc(c.line) + '</td><td class="name">' + esc(c.progress_point) + '</td><td>' + fit[0] + '</td><td>' + fit[1] +
          '</td><td>' + pctText(c.max_speedup) + '</td><td>' + c.points.length + '</td></tr>';
      }).join('');
      $('curves').innerHTML = d.curves.filter(function (c) { return c.svg; }).map(function (c) {
        return '<figure class="curve" data-line="' + esc(c.line) + '" data-points="' + c.points.length + '"><figcaption>' +
          esc(c.line) + ' (' + esc(c.progress_point) + ')</figcaption>' + c.svg + '</figure>';
      }).join('');
    });
  }
  function kindOf(view) {
    return profileViews.indexOf(view) >= 0 ? 'profiles' : view;
  }
  function defaultView() {
    if (meta.profiles.length) return 'top';
    if (meta.goroutines.length) return 'goroutines';
    return meta.series.length ? 'series' : 'causal';
  }
  function render() {
    showError(null);
    var view = get('view', defaultView());
    if (!meta[kindOf(view)] || !meta[kindOf(view)].length) view = defaultView();
    document.querySelectorAll('.view').forEach(function (v) { v.classList.toggle('active', v.id === 'view-' + view); });
    document.querySelectorAll('nav a').forEach(function (a) { a.classList.toggle('active', a.dataset.view === view); });
    $('controls').hidden = kindOf(view) !== 'profiles';
    $('download').href = 'api/profile.pb.gz?' + apiQuery();
    var job = {top: loadTop, flame: loadFlame, peek: loadPeek, source: loadSource, goroutines: loadGoroutines, series: loadSeries, causal: loadCausal}[view];
    document.body.dataset.ready = '0';
    return job().catch(showError).then(function () { document.body.dataset.ready = '1'; });
  }
  function go(changes) { Object.keys(changes).forEach(function (k) { set(k, changes[k]); }); save(); return render(); }

  function options(list) {
    return list.map(function (x, i) { return '<option value="' + i + '">' + esc(x.name) + '</option>'; }).join('');
  }
  function fillSampleTypes() {
    var set = meta.profiles[+get('p', '0')] || meta.profiles[0];
    if (!set) return;
    $('si').innerHTML = set.sample_types.map(function (t) {
      return '<option value="' + esc(t.kind) + '">' + esc(t.kind) + ' (' + esc(t.unit) + ')</option>';
    }).join('');
    $('si').value = get('si', set.sample_types.length ? set.sample_types[set.default_index].kind : '');
  }
  fetchJson('api/meta').then(function (m) {
    meta = m;
    $('files').textContent = m.files;
    document.querySelectorAll('nav a').forEach(function (a) { a.hidden = !m[a.dataset.kind].length; });
    [['p', 'profiles'], ['gd', 'goroutines'], ['ss', 'series'], ['cc', 'causal']].forEach(function (x) {
      $(x[0]).innerHTML = options(m[x[1]]);
      $(x[0]).value = get(x[0], '0');
      $(x[0] + '-wrap').hidden = m[x[1]].length < 2;
    });
    fillSampleTypes();
    ['focus', 'ignore', 'hide', 'show'].forEach(function (k) { $(k).value = get(k, ''); });
    $('g').value = get('g', 'functions');
    $('gstate').value = get('gstate', '');
    $('gmatch').value = get('gmatch', '');
    $('gexact').checked = !!get('gexact', '');
    $('glabels').checked = !!get('glabels', '');
    $('ghide').checked = !!get('ghide', '');
    render();
  }).catch(showError);

  $('p').addEventListener('change', function () {
    set('p', $('p').value === '0' ? '' : $('p').value);
    set('si', ''); set('fn', '');
    fillSampleTypes();
    go({});
  });
  $('gcontrols').addEventListener('submit', function (ev) {
    ev.preventDefault();
    go({gstate: $('gstate').value, gmatch: $('gmatch').value, gexact: $('gexact').checked ? '1' : '',
      glabels: $('glabels').checked ? '1' : '', ghide: $('ghide').checked ? '1' : ''});
  });
  // A function in a stack filters to the goroutines that have it, as --match would.
  $('groups').addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a.gfn');
    if (!a) return;
    var re = '^' + a.dataset.fn.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
    $('gmatch').value = re;
    go({gmatch: re});
  });
  $('gd').addEventListener('change', function () { go({gd: $('gd').value === '0' ? '' : $('gd').value}); });
  $('ss').addEventListener('change', function () { go({ss: $('ss').value === '0' ? '' : $('ss').value}); });
  $('cc').addEventListener('change', function () { go({cc: $('cc').value === '0' ? '' : $('cc').value}); });
  // Hover tips on charts: the nearest point of the pointer's x.
  $('charts').addEventListener('mousemove', function (ev) {
    var svg = ev.target.closest && ev.target.closest('svg.chart');
    if (!svg) return;
    var tip = svg.querySelector('text.tip'), r = svg.getBoundingClientRect();
    var x = (ev.clientX - r.left) * (svg.viewBox.baseVal.width / r.width), best = null, bd = 1e9;
    svg.querySelectorAll('circle[data-v]').forEach(function (c) {
      var d = Math.abs(c.cx.baseVal.value - x);
      if (d < bd) { bd = d; best = c; }
    });
    if (best && tip) tip.textContent = best.getAttribute('data-s') + ' @ ' + best.getAttribute('data-t') + 's: ' + best.getAttribute('data-v');
  });

  $('controls').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var ch = {};
    filterKeys.forEach(function (k) { ch[k] = $(k).value; });
    if (ch.g === 'functions') ch.g = '';
    go(ch);
  });
  $('si').addEventListener('change', function () { go({si: $('si').value}); });
  document.querySelectorAll('nav a').forEach(function (a) {
    a.addEventListener('click', function (ev) { ev.preventDefault(); go({view: a.dataset.view}); });
  });
  document.querySelectorAll('#top th[data-sort]').forEach(function (th) {
    th.addEventListener('click', function () { set('sort', th.dataset.sort); save(); renderTop(); });
  });
  document.addEventListener('click', function (ev) {
    var a = ev.target.closest && ev.target.closest('a.fn');
    if (!a) return;
    ev.preventDefault();
    go({fn: a.dataset.fn, view: get('view', 'top') === 'top' ? 'peek' : get('view', 'top')});
  });
  $('search').addEventListener('input', function () { set('q', $('search').value); save(); runSearch($('search').value); });
  $('reset-zoom').addEventListener('click', function () { if (flameApi) flameApi.unzoom(); set('fn', ''); save(); loadNeighbours(); });
})();
