// Interactive flame graph: click to zoom, search with highlight and matched share,
// hover details. Works standalone (the SVG calls flameInit on itself) and embedded in a
// page (the page calls flameInit on the inserted <svg>). Clicking a frame dispatches a
// "flameselect" event with the frame's name, for pages that show callers and callees.
function flameInit(svg) {
  if (svg.flame) return svg.flame;
  var pad = parseFloat(svg.getAttribute('data-pad')) || 10;
  var width = parseFloat(svg.getAttribute('width'));
  var inner = width - 2 * pad;
  var frames = Array.prototype.slice.call(svg.querySelectorAll('g.f'));
  var q = function (c) { return svg.querySelector('.' + c); };
  var details = q('details'), matched = q('matched'), unzoomBtn = q('unzoom'), searchBtn = q('search');
  var info = frames.map(function (g) {
    var t = g.querySelector('title').textContent;
    var nl = t.indexOf('\n');
    return {
      g: g, rect: g.querySelector('rect'), text: g.querySelector('text'),
      name: nl < 0 ? t : t.slice(0, nl), label: nl < 0 ? '' : t.slice(nl + 1),
      x: parseFloat(g.getAttribute('data-x')), w: parseFloat(g.getAttribute('data-w')),
      d: parseInt(g.getAttribute('data-d'), 10), fill: g.querySelector('rect').getAttribute('fill')
    };
  });
  var root = info.length ? info[0] : null;
  var state = { zoomed: null, term: null, share: 0 };

  function fit(name, w) {
    var chars = Math.floor((w - 6) / (12 * 0.59));
    if (chars < 3) return '';
    if (name.length <= chars) return name;
    return name.slice(0, chars - 2) + '..';
  }
  function place(f, x0, scale) {
    var px = pad + (f.x - x0) * scale, pw = f.w * scale;
    f.rect.setAttribute('x', px.toFixed(2));
    f.rect.setAttribute('width', pw.toFixed(2));
    f.text.setAttribute('x', (px + 3).toFixed(2));
    f.text.textContent = fit(f.name, pw);
  }
  function zoom(target) {
    if (!root) return;
    if (!target || target === root) { unzoom(); return; }
    var x0 = target.x, x1 = target.x + target.w, scale = inner / target.w;
    info.forEach(function (f) {
      var inside = f.x >= x0 && f.x + f.w <= x1 && f.d >= target.d;
      var ancestor = f.d < target.d && f.x <= x0 && f.x + f.w >= x1;
      f.g.classList.toggle('hide', !inside && !ancestor);
      f.g.classList.toggle('parent', ancestor);
      if (inside) place(f, x0, scale);
      else if (ancestor) { place(f, f.x, inner / f.w); f.rect.setAttribute('x', pad); f.rect.setAttribute('width', inner); f.text.setAttribute('x', pad + 3); f.text.textContent = fit(f.name, inner); }
    });
    state.zoomed = target;
    unzoomBtn.classList.remove('hide');
    if (state.term !== null) search(state.term);
  }
  function unzoom() {
    var scale = root ? inner / root.w : 0;
    info.forEach(function (f) {
      f.g.classList.remove('hide'); f.g.classList.remove('parent');
      place(f, root.x, scale);
    });
    state.zoomed = null;
    unzoomBtn.classList.add('hide');
    if (state.term !== null) search(state.term);
  }
  function search(term) {
    var re;
    try { re = new RegExp(term); } catch (e) { return -1; }
    state.term = term;
    var hits = [];
    info.forEach(function (f) {
      var hit = f !== root && re.test(f.name);
      f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);
      f.g.classList.toggle('match', hit);
      if (hit && !f.g.classList.contains('hide')) hits.push(f);
    });
    // Share of the visible width covered by matches, counting nested matches once.
    hits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });
    var covered = 0, end = -Infinity;
    hits.forEach(function (f) {
      var s = Math.max(f.x, end), e = f.x + f.w;
      if (e > s) covered += e - s;
      end = Math.max(end, e);
    });
    var base = state.zoomed ? state.zoomed.w : (root ? root.w : 0);
    var total = parseFloat(svg.getAttribute('data-total')) || base;
    state.share = base > 0 ? covered / (state.zoomed ? base : total) * 100 : 0;
    matched.textContent = hits.length ? 'Matched: ' + state.share.toFixed(2) + '%' : 'Matched: none';
    searchBtn.textContent = 'Reset Search';
    return state.share;
  }
  function resetSearch() {
    state.term = null;
    info.forEach(function (f) { f.rect.setAttribute('fill', f.fill); f.g.classList.remove('match'); });
    matched.textContent = ' ';
    searchBtn.textContent = 'Search';
  }
  info.forEach(function (f) {
    f.g.addEventListener('click', function (ev) {
      ev.stopPropagation();
      info.forEach(function (o) { o.g.classList.remove('sel'); });
      f.g.classList.add('sel');
      zoom(f);
      svg.dispatchEvent(new CustomEvent('flameselect', { bubbles: true, detail: { name: f.name, label: f.label } }));
    });
    f.g.addEventListener('mouseover', function () { details.textContent = f.name + ': ' + f.label; });
    f.g.addEventListener('mouseout', function () { details.textContent = ' '; });
  });
  unzoomBtn.addEventListener('click', function () { unzoom(); });
  searchBtn.addEventListener('click', function () {
    if (state.term !== null) { resetSearch(); return; }
    var term = window.prompt('Search for (regular expression):', '');
    if (term) search(term);
  });
  svg.flame = { zoom: function (name) {
      var f = info.filter(function (o) { return o.name === name; }).sort(function (a, b) { return b.w - a.w; })[0];
      zoom(f || null); return !!f;
    }, unzoom: unzoom, search: search, resetSearch: resetSearch, state: state };
  return svg.flame;
}
