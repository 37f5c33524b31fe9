// Tributary status page: polls the admin API and draws Spark-Streaming-tab figures per pipeline
// (input rate, scheduling delay, processing time, total delay as timelines and histograms, recent
// batches, partitions). Hand-drawn SVG, no library, nothing loaded from elsewhere.
(function () {
  'use strict';
  var POLL_MS = 2000;
  var TABLE_ROWS = 20;

  function token() { return window.sessionStorage.getItem('tributary-token'); }

  function get(path) {
    var headers = {};
    if (token()) { headers.Authorization = 'Bearer ' + token(); }
    return fetch(path, { headers: headers, cache: 'no-store' }).then(function (r) {
      if (r.status === 401) { askToken(); throw new Error('unauthorized'); }
      return r.json();
    });
  }

  function askToken() {
    var box = document.getElementById('token-box');
    if (!box) {
      box = document.createElement('div');
      box.id = 'token-box';
      box.innerHTML = 'This gateway needs its admin token: <input id="token-input" type="password" size="40"> ' +
        '<button id="token-save">use</button>';
      document.body.insertBefore(box, document.getElementById('pipelines'));
      document.getElementById('token-save').addEventListener('click', function () {
        window.sessionStorage.setItem('tributary-token', document.getElementById('token-input').value);
        box.style.display = 'none';
        poll();
      });
    }
    box.style.display = 'block';
  }

  function esc(s) {
    return String(s === null || s === undefined ? '' : s)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) { return '-'; }
    if (v >= 1e6) { return (v / 1e6).toFixed(1) + 'M'; }
    if (v >= 1e4) { return (v / 1e3).toFixed(1) + 'k'; }
    return String(Math.round(v * 10) / 10);
  }

  // One series: [{batch, t, v}] -> an SVG timeline with one circle per point.
  function timeline(name, unit, points) {
    var W = 420, H = 130, L = 44, R = 8, T = 8, B = 20;
    var max = 0, tmin = Infinity, tmax = -Infinity;
    points.forEach(function (p) { max = Math.max(max, p.v); tmin = Math.min(tmin, p.t); tmax = Math.max(tmax, p.t); });
    if (max === 0) { max = 1; }
    if (tmax <= tmin) { tmax = tmin + 1; }
    var x = function (t) { return L + (t - tmin) / (tmax - tmin) * (W - L - R); };
    var y = function (v) { return T + (1 - v / max) * (H - T - B); };
    var path = points.map(function (p, i) { return (i ? 'L' : 'M') + x(p.t).toFixed(1) + ',' + y(p.v).toFixed(1); }).join(' ');
    var dots = points.map(function (p) {
      return '<circle r="2.5" cx="' + x(p.t).toFixed(1) + '" cy="' + y(p.v).toFixed(1) + '" data-batch="' + p.batch +
        '" data-value="' + p.v + '"><title>batch ' + p.batch + ': ' + fmt(p.v) + ' ' + unit + '</title></circle>';
    }).join('');
    var span = points.length ? Math.round((tmax - tmin) / 1000) + ' s' : 'no batches yet';
    return '<div class="chart"><h3>' + esc(name) + ' (' + esc(unit) + ')</h3>' +
      '<svg class="timeline" data-series="' + esc(name) + '" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '">' +
      '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + (W - R) + '" y2="' + (H - B) + '" stroke="#999"/>' +
      '<line x1="' + L + '" y1="' + T + '" x2="' + L + '" y2="' + (H - B) + '" stroke="#999"/>' +
      '<text x="2" y="' + (T + 8) + '">' + fmt(max) + '</text><text x="2" y="' + (H - B) + '">0</text>' +
      '<text x="' + L + '" y="' + (H - 5) + '">last ' + span + '</text>' +
      '<path class="line" d="' + path + '"/>' + dots + '</svg></div>';
  }

  function histogram(name, unit, values) {
    var W = 420, H = 130, L = 44, R = 8, T = 8, B = 20, BINS = 12;
    var max = 0;
    values.forEach(function (v) { max = Math.max(max, v); });
    var width = max > 0 ? max / BINS : 1;
    var counts = new Array(BINS).fill(0);
    values.forEach(function (v) { counts[Math.min(BINS - 1, Math.floor(v / width))]++; });
    var cmax = Math.max.apply(null, counts.concat([1]));
    var bw = (W - L - R) / BINS;
    var bars = counts.map(function (c, i) {
      var h = c / cmax * (H - T - B);
      return '<rect class="bar" x="' + (L + i * bw + 1).toFixed(1) + '" y="' + (H - B - h).toFixed(1) + '" width="' +
        (bw - 2).toFixed(1) + '" height="' + h.toFixed(1) + '" data-count="' + c + '"><title>' + fmt(i * width) + '-' +
        fmt((i + 1) * width) + ' ' + unit + ': ' + c + ' batches</title></rect>';
    }).join('');
    return '<div class="chart"><h3>' + esc(name) + ' histogram (' + esc(unit) + ')</h3>' +
      '<svg class="histogram" data-series="' + esc(name) + '" width="' + W + '" height="' + H + '">' +
      '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + (W - R) + '" y2="' + (H - B) + '" stroke="#999"/>' +
      '<text x="' + L + '" y="' + (H - 5) + '">0</text><text x="' + (W - R - 40) + '" y="' + (H - 5) + '">' + fmt(max) +
      '</text><text x="2" y="' + (T + 8) + '">' + cmax + '</text>' + bars + '</svg></div>';
  }

  function section(p) {
    var batches = p.batches || [];
    var rate = [];
    for (var i = 0; i < batches.length; i++) {
      var b = batches[i];
      var prev = i > 0 ? batches[i - 1] : null;
      var secs = prev ? Math.max(0.001, (b.batchTimeMs - prev.batchTimeMs) / 1000) : null;
      rate.push({ batch: b.batchId, t: b.batchTimeMs, v: secs ? Math.round(b.records / secs * 10) / 10 : b.records });
    }
    function series(key) { return batches.map(function (b) { return { batch: b.batchId, t: b.batchTimeMs, v: b[key] }; }); }
    var sched = series('schedulingDelayMs'), proc = series('processingTimeMs'), total = series('totalDelayMs');
    var html = '<h2 id="p-' + esc(p.id) + '">' + esc(p.id) + ' <span class="' + esc(p.state) + '">' + esc(p.state) +
      (p.paused ? ' (paused)' : '') + '</span></h2>';
    html += '<p class="meta">source <b>' + esc(p.source.type) + '</b> (' + esc(p.source.kind) + ') → ' +
      p.sinks.map(function (s) { return '<b>' + esc(s.type) + '</b> (' + esc(s.guarantee) + ')'; }).join(', ') +
      ' · last planned batch ' + p.lastPlannedBatch + ' · last committed batch ' + p.lastCommittedBatch +
      ' · lag ' + fmt(p.lag) + '</p>';
    if (p.failure) {
      html += '<div class="failure-box" data-pipeline="' + esc(p.id) + '"><b>Failed:</b> ' + esc(p.failure.message) +
        (p.failure.causes.length > 1 ? '\ncaused by:\n  ' + p.failure.causes.slice(1).map(esc).join('\n  ') : '') + '</div>';
    }
    html += '<div class="charts">' +
      timeline('Input rate', 'records/s', rate) + histogram('Input rate', 'records/s', rate.map(function (r) { return r.v; })) +
      timeline('Scheduling delay', 'ms', sched) + histogram('Scheduling delay', 'ms', sched.map(function (r) { return r.v; })) +
      timeline('Processing time', 'ms', proc) + histogram('Processing time', 'ms', proc.map(function (r) { return r.v; })) +
      timeline('Total delay', 'ms', total) + histogram('Total delay', 'ms', total.map(function (r) { return r.v; })) +
      '</div>';
    html += '<h3>Recent batches</h3><table class="batches"><tr><th>batch</th><th>time</th><th>records</th><th>bytes</th>' +
      '<th>scheduling delay (ms)</th><th>processing time (ms)</th><th>total delay (ms)</th></tr>';
    batches.slice(-TABLE_ROWS).reverse().forEach(function (b) {
      html += '<tr><td>' + b.batchId + '</td><td>' + new Date(b.batchTimeMs).toLocaleTimeString() + '</td><td>' + b.records +
        '</td><td>' + b.bytes + '</td><td>' + b.schedulingDelayMs + '</td><td>' + b.processingTimeMs + '</td><td>' +
        b.totalDelayMs + '</td></tr>';
    });
    html += '</table><h3>Partitions</h3><table class="partitions"><tr><th>partition</th><th>committed position</th>' +
      '<th>latest position</th><th>lag</th><th>ms behind latest</th></tr>';
    (p.partitions || []).forEach(function (q) {
      html += '<tr><td>' + esc(q.partition) + '</td><td>' + esc(q.committedPosition) + '</td><td>' +
        esc(q.latestPosition === null ? 'unknown' : q.latestPosition) + '</td><td>' + (q.lag === null ? '-' : q.lag) + '</td><td>' +
        (q.millisBehindLatest == null || q.millisBehindLatest < 0 ? '-' : q.millisBehindLatest) + '</td></tr>';
    });
    html += '</table>';
    if (p.receivers && p.receivers.length) {
      html += '<h3>Receivers</h3><table class="receivers"><tr><th>receiver</th><th>state</th><th>restarts</th>' +
        '<th>connected clients</th><th>buffered bytes</th><th>last error</th></tr>';
      p.receivers.forEach(function (r) {
        html += '<tr data-receiver="' + esc(r.name) + '"><td>' + esc(r.name) + '</td><td class="' + esc(r.state) + '">' +
          esc(r.state) + '</td><td>' + r.restarts + '</td><td>' +
          (r.connectedClients === null ? 'unknown' : r.connectedClients) + '</td><td>' + fmt(r.bufferedBytes) +
          '</td><td class="last-error">' + (r.lastError ? esc(r.lastError) + ' <span class="when">(' +
          new Date(r.lastErrorAtMs).toLocaleTimeString() + ')</span>' : '') + '</td></tr>';
      });
      html += '</table>';
    }
    if (p.quarantine && p.quarantine.length) {
      html += '<h3>Quarantine (' + p.quarantine.length + ' skipped, not read)</h3><table class="quarantine"><tr>' +
        '<th>partition</th><th>item</th><th>reason</th><th>error</th><th>since</th></tr>';
      p.quarantine.forEach(function (q) {
        html += '<tr><td>' + esc(q.partition) + '</td><td class="item">' + esc(q.item) + '</td><td>' + esc(q.reason) +
          '</td><td>' + esc(q.message) + '</td><td>' + new Date(q.quarantinedAtMs).toLocaleString() + '</td></tr>';
      });
      html += '</table>';
    }
    return html;
  }

  function row(p) {
    return '<tr data-id="' + esc(p.id) + '"><td><a href="#p-' + esc(p.id) + '">' + esc(p.id) + '</a></td><td class="' +
      esc(p.state) + '">' + esc(p.state) + (p.paused ? ' (paused)' : '') +
      (p.stalledMs > 0 ? ' (stalled ' + Math.round(p.stalledMs / 1000) + ' s)' : '') + '</td><td>' + p.lastCommittedBatch + '</td><td>' +
      p.recordsIn + '</td><td>' + p.recordsOut + '</td><td>' + fmt(p.lag) + '</td><td class="quarantined">' +
      (p.quarantined || 0) + '</td><td class="failure">' +
      esc(p.failure ? p.failure.message : '') + '</td></tr>';
  }

  var polling = false;
  function poll() {
    if (polling) { return; }
    polling = true;
    // Health as /health computes it, from the list (a 503 from /health would be logged as a console error).
    get('/pipelines').then(function (list) {
      var up = list.every(function (p) { return (p.state === 'RUNNING' && !(p.stalledMs > 0)) || p.stoppedByOperator; });
      document.getElementById('health').textContent = up ? 'UP' : 'DOWN';
      return Promise.all(list.map(function (p) { return get('/pipelines/' + encodeURIComponent(p.id)); }));
    }).then(function (details) {
      document.querySelector('#pipelines tbody').innerHTML = details.map(row).join('');
      var container = document.getElementById('details');
      container.innerHTML = details.map(function (p) { return '<section class="pipeline" data-id="' + esc(p.id) + '">' +
        section(p) + '</section>'; }).join('');
      document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      document.body.setAttribute('data-polls', String(Number(document.body.getAttribute('data-polls') || 0) + 1));
    }).catch(function (e) {
      document.getElementById('updated').textContent = 'update failed: ' + e.message;
    }).then(function () { polling = false; });
  }

  poll();
  window.setInterval(poll, POLL_MS);
})();
