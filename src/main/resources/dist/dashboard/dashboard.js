// The dist dashboard: polls the scheduler's JSON and draws with plain DOM and SVG (nothing fetched from elsewhere).
(function () {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var page = document.body.getAttribute('data-page');

  function $(id) { return document.getElementById(id); }

  function bytes(n) {
    if (n == null || n < 0) { return '-'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }

  function cell(tr, value, cls) {
    var td = document.createElement('td');
    td.textContent = value;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function svgEl(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function getJson(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) { throw new Error(url + ' answered ' + r.status); }
      return r.json();
    });
  }

  // ------------------------------------------------------------ story of one task

  function showStory(key) {
    $('story-panel').hidden = false;
    $('story-key').textContent = key;
    var body = $('story').tBodies[0];
    body.textContent = '';
    getJson('/api/story?key=' + encodeURIComponent(key)).then(function (d) {
      if (d.story.length === 0) {
        var tr = body.insertRow();
        cell(tr, 'nothing kept about this task (only the most recent steps are kept)');
      }
      d.story.forEach(function (s) {
        var tr = body.insertRow();
        cell(tr, new Date(s.time).toISOString().substring(11, 23));
        cell(tr, s.where);
        cell(tr, s.event);
        cell(tr, s.detail);
      });
      $('story-panel').scrollIntoView();
    }).catch(function (e) {
      cell(body.insertRow(), 'could not read the story: ' + e.message);
    });
  }

  if ($('story-close')) {
    $('story-close').onclick = function () { $('story-panel').hidden = true; };
  }

  // ------------------------------------------------------------ /status

  function renderSummary(d) {
    $('scheduler').textContent = 'scheduler ' + d.scheduler;
    var threads = 0;
    d.workers.forEach(function (w) { threads += w.nthreads; });
    $('worker-count').textContent = d.workers.length;
    $('thread-count').textContent = threads;
    $('finished').textContent = d.totals.finished;
    $('processing').textContent = d.totals.processing;
    $('waiting').textContent = d.totals.waiting + d.totals.queued + d.totals['no-worker'];
    $('memory').textContent = d.totals.memory;
    $('erred').textContent = d.totals.erred;
  }

  function renderWorkers(d) {
    var body = $('workers').tBodies[0];
    body.textContent = '';
    d.workers.forEach(function (w) {
      var tr = body.insertRow();
      tr.className = 'worker';
      cell(tr, w.address, 'address');
      cell(tr, w.name);
      cell(tr, w.nthreads, 'num');
      var mem = cell(tr, '', 'num');
      if (w.memoryLimit > 0) {
        var bar = document.createElement('span');
        bar.className = 'membar';
        var fill = document.createElement('span');
        fill.style.width = Math.min(100, 100 * w.memory / w.memoryLimit) + '%';
        bar.appendChild(fill);
        mem.appendChild(bar);
      }
      mem.appendChild(document.createTextNode(bytes(w.memory)));
      cell(tr, w.memoryLimit > 0 ? bytes(w.memoryLimit) : 'none', 'num');
      cell(tr, w.cpu.toFixed(0) + ' %', 'num');
      cell(tr, w.processing, 'num');
      cell(tr, w.keys, 'num');
      cell(tr, bytes(w.bytes), 'num');
    });
  }

  function renderGroups(d) {
    var box = $('groups');
    box.textContent = '';
    if (d.groups.length === 0) {
      var p = document.createElement('p');
      p.className = 'muted';
      p.textContent = 'no tasks yet';
      box.appendChild(p);
      return;
    }
    d.groups.forEach(function (g) {
      var total = g.memory + g.released + g.waiting + g.processing + g.erred;
      var row = document.createElement('div');
      row.className = 'group';
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = g.prefix;
      name.title = g.prefix;
      name.style.borderLeftColor = g.colour; // keys the stream's colours
      row.appendChild(name);
      var bar = document.createElement('div');
      bar.className = 'bar';
      ['memory', 'released', 'processing', 'waiting', 'erred'].forEach(function (s) {
        if (g[s] > 0 && total > 0) {
          var seg = document.createElement('span');
          seg.className = s;
          seg.style.width = (100 * g[s] / total) + '%';
          seg.title = g[s] + ' ' + s;
          bar.appendChild(seg);
        }
      });
      row.appendChild(bar);
      var txt = document.createElement('span');
      txt.className = 'counts';
      txt.textContent = (g.memory + g.released) + ' / ' + total + (g.erred ? ' (' + g.erred + ' erred)' : '');
      row.appendChild(txt);
      box.appendChild(row);
    });
  }

  function renderStream(d) {
    var svg = $('stream');
    var W = svg.clientWidth || 1200;
    var H = svg.clientHeight || 180;
    svg.textContent = '';
    var lanes = d.workers.map(function (w) { return w.address; });
    d.stream.forEach(function (t) { if (lanes.indexOf(t.worker) < 0) { lanes.push(t.worker); } });
    if (d.stream.length === 0 && d.transfers.length === 0) {
      svgEl('text', { x: 10, y: 20 }, svg).textContent = 'no task has run yet';
      return;
    }
    var t0 = Infinity, t1 = -Infinity;
    d.stream.forEach(function (t) { t0 = Math.min(t0, t.start); t1 = Math.max(t1, t.stop); });
    if (t0 === Infinity) { t0 = d.now - 1000; t1 = d.now; }
    // while tasks run the window ends now; once idle it ends at the last task, so bars stay readable
    if (d.now - t1 < 2000) { t1 = d.now; } else { t1 += 0.03 * (t1 - t0); }
    if (t1 - t0 < 1000) { t0 = t1 - 1000; }
    var left = 150, top = 4, bottom = 18;
    var laneH = Math.max(6, Math.min(28, (H - top - bottom) / Math.max(1, lanes.length)));
    function x(t) { return left + (W - left - 6) * (t - t0) / (t1 - t0); }
    lanes.forEach(function (a, i) {
      var label = svgEl('text', { x: 4, y: top + i * laneH + laneH * 0.7 }, svg);
      label.textContent = a;
      svgEl('line', { x1: left, x2: W - 6, y1: top + (i + 1) * laneH, y2: top + (i + 1) * laneH, stroke: '#eee' }, svg);
    });
    d.stream.forEach(function (t) {
      var i = lanes.indexOf(t.worker);
      var r = svgEl('rect', {
        x: x(t.start), y: top + i * laneH + 1, width: Math.max(1, x(t.stop) - x(t.start)), height: laneH - 2,
        fill: t.erred ? '#111' : d.colours[t.group], 'class': 'task'
      }, svg);
      svgEl('title', {}, r).textContent = t.key + ' (' + t.group + ') on ' + t.worker + ': ' + (t.stop - t.start).toFixed(1) + ' ms'
        + (t.erred ? ' (erred)' : ', ' + bytes(t.nbytes));
      r.addEventListener('click', function () { showStory(t.key); });
    });
    d.transfers.forEach(function (t) {
      var i = lanes.indexOf(t.worker);
      if (i < 0 || t.stop < t0) { return; }
      var r = svgEl('rect', {
        x: x(t.start), y: top + i * laneH + 1, width: Math.max(1, x(t.stop) - x(t.start)), height: (laneH - 2) / 2,
        'class': 'transfer'
      }, svg);
      svgEl('title', {}, r).textContent = 'transfer from ' + t.peer + ' to ' + t.worker + ': ' + bytes(t.bytes);
    });
    svgEl('text', { x: left, y: H - 4 }, svg).textContent = new Date(t0).toLocaleTimeString();
    svgEl('text', { x: W - 70, y: H - 4 }, svg).textContent = new Date(t1).toLocaleTimeString();
  }

  function renderResources(d) {
    var svg = $('resources');
    var W = svg.clientWidth || 600;
    var H = svg.clientHeight || 160;
    svg.textContent = '';
    var h = d.history;
    if (h.length < 2) {
      svgEl('text', { x: 10, y: 20 }, svg).textContent = 'collecting samples…';
      return;
    }
    var t0 = h[0][0], t1 = h[h.length - 1][0];
    var maxCpu = 100, maxMem = 1;
    h.forEach(function (s) { maxCpu = Math.max(maxCpu, s[1]); maxMem = Math.max(maxMem, s[2], s[3]); });
    function x(t) { return 40 + (W - 50) * (t - t0) / Math.max(1, t1 - t0); }
    function line(idx, max, colourName) {
      var pts = h.map(function (s) { return x(s[0]).toFixed(1) + ',' + (H - 20 - (H - 30) * s[idx] / max).toFixed(1); });
      svgEl('polyline', { points: pts.join(' '), fill: 'none', stroke: colourName, 'stroke-width': 2 }, svg);
    }
    svgEl('line', { x1: 40, x2: W - 10, y1: H - 20, y2: H - 20, stroke: '#ccc' }, svg);
    line(1, maxCpu, '#e377c2');
    line(2, maxMem, '#2ca02c');
    var last = h[h.length - 1];
    svgEl('text', { x: 40, y: 12 }, svg).textContent = 'CPU ' + last[1].toFixed(0) + ' % (scale ' + maxCpu.toFixed(0)
      + ' %), memory ' + bytes(last[2]) + (last[3] > 0 ? ' of ' + bytes(last[3]) : '');
    svgEl('text', { x: 40, y: H - 4 }, svg).textContent = new Date(t0).toLocaleTimeString();
    svgEl('text', { x: W - 70, y: H - 4 }, svg).textContent = new Date(t1).toLocaleTimeString();
  }

  function renderSpans(d) {
    var body = $('spans').tBodies[0];
    body.textContent = '';
    var names = {};
    d.spans.forEach(function (s) { names[s.id] = s.name; });
    d.spans.forEach(function (s) {
      var tr = body.insertRow();
      tr.className = 'span';
      cell(tr, s.name);
      cell(tr, s.parent ? (names[s.parent] || s.parent) : '');
      cell(tr, s.tasks, 'num');
      cell(tr, s.active, 'num');
      cell(tr, s.computeSeconds.toFixed(3), 'num');
      cell(tr, s.transferSeconds.toFixed(3), 'num');
      cell(tr, bytes(s.transferBytes), 'num');
      cell(tr, s.errors, 'num');
      cell(tr, bytes(s.memoryBytes), 'num');
    });
  }

  function pollStatus() {
    getJson('/api/spans').then(renderSpans).catch(function () { /* the status poll says when unreachable */ });
    getJson('/api/status').then(function (d) {
      renderSummary(d);
      renderWorkers(d);
      renderGroups(d);
      renderStream(d);
      renderResources(d);
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    }).catch(function (e) {
      $('updated').textContent = 'scheduler unreachable: ' + e.message;
    }).then(function () {
      setTimeout(pollStatus, 500);
    });
  }

  // ------------------------------------------------------------ /tasks

  function loadTasks() {
    getJson('/api/tasks').then(function (d) {
      $('scheduler').textContent = 'scheduler ' + d.scheduler;
      $('task-count').textContent = d.tasks.length;
      var body = $('tasks').tBodies[0];
      body.textContent = '';
      for (var i = d.tasks.length - 1; i >= 0; i--) {
        var t = d.tasks[i];
        var tr = body.insertRow();
        var a = document.createElement('a');
        a.textContent = t.key;
        a.onclick = showStory.bind(null, t.key);
        cell(tr, '').appendChild(a);
        cell(tr, t.worker);
        cell(tr, new Date(t.start).toISOString().substring(11, 23));
        cell(tr, (t.stop - t.start).toFixed(2) + ' ms', 'num');
        cell(tr, t.erred ? '-' : bytes(t.nbytes), 'num');
        cell(tr, t.erred ? 'erred' : 'finished');
      }
      $('updated').textContent = 'as of ' + new Date().toLocaleTimeString();
    }).catch(function (e) {
      $('updated').textContent = 'scheduler unreachable: ' + e.message;
    });
  }

  if (page === 'status') { pollStatus(); } else if (page === 'tasks') { loadTasks(); }
}());
