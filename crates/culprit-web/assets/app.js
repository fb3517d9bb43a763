// The page: state lives in the URL query (view, si, focus, ignore, hide, show, g, fn, q,
// sort); every change rewrites it, and loading a URL restores the same view.
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var filterKeys = ['si', 'focus', 'ignore', 'hide', 'show', 'g'];
  var params = new URLSearchParams(location.search);
  var topRows = [], flameApi = null;

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
  function render() {
    showError(null);
    var view = get('view', 'top');
    document.querySelectorAll('.view').forEach(function (v) { v.classList.toggle('active', v.id === 'view-' + view); });
    document.querySelectorAll('nav a').forEach(function (a) { a.classList.toggle('active', a.dataset.view === view); });
    $('download').href = 'api/profile.pb.gz?' + apiQuery();
    var job = {top: loadTop, flame: loadFlame, peek: loadPeek, source: loadSource}[view] || loadTop;
    document.body.dataset.ready = '0';
    return job().catch(showError).then(function () { document.body.dataset.ready = '1'; });
  }
  function go(changes) { Object.keys(changes).forEach(function (k) { set(k, changes[k]); }); save(); return render(); }

  fetchJson('api/meta').then(function (m) {
    $('files').textContent = m.files;
    var si = $('si');
    si.innerHTML = m.sample_types.map(function (t, i) {
      return '<option value="' + esc(t.kind) + '">' + esc(t.kind) + ' (' + esc(t.unit) + ')</option>';
    }).join('');
    si.value = get('si', m.sample_types.length ? m.sample_types[m.default_index].kind : '');
    ['focus', 'ignore', 'hide', 'show'].forEach(function (k) { $(k).value = get(k, ''); });
    $('g').value = get('g', 'functions');
    render();
  }).catch(showError);

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
