// /admin/status: the health report (each check with its duration), the Loops sync status
// and the recent server errors, refreshed every 5 seconds while signed in.
'use strict';

const REFRESH_MS = 5000;
let timer = null;

function statusCell(row, status) {
  Admin.cell(row, status).className = 'status-' + status;
}

function renderHealth(report) {
  const heading = document.getElementById('health-status');
  heading.textContent = '(' + report.status + ')';
  heading.className = 'status-' + report.status;
  const body = document.querySelector('#checks tbody');
  body.replaceChildren();
  for (const [name, check] of Object.entries(report.checks || {})) {
    const row = document.createElement('tr');
    row.dataset.check = name;
    Admin.cell(row, name);
    statusCell(row, check.status);
    Admin.cell(row, check.duration_ms + ' ms');
    const details = Object.entries(check)
      .filter(([key]) => !['status', 'duration_ms'].includes(key))
      .map(([key, value]) => key + ': ' + (typeof value === 'object' ? JSON.stringify(value) : value));
    Admin.cell(row, details.join(', '));
    body.appendChild(row);
  }
}

function renderLoops(status) {
  const body = document.querySelector('#loops tbody');
  body.replaceChildren();
  const counters = status.counters || {};
  const facts = [
    ['enabled', status.enabled],
    ['configured', status.configured],
    ['pending', status.pending],
    ['in flight', status.in_flight],
    ['retrying', status.failed],
    ['dead letters', status.dead_lettered],
    ['sent in the last hour', status.sent_last_hour],
    ['oldest pending (s)', status.oldest_pending_age_seconds],
    ['last error', status.last_error ? status.last_error + ' (' + status.last_error_at + ')' : 'none'],
    ['sent / failed / dead-lettered (all time)',
      [counters.sent, counters.failed, counters.dead_lettered].join(' / ')],
  ];
  for (const [name, value] of facts) {
    const row = document.createElement('tr');
    row.dataset.fact = name;
    Admin.cell(row, name);
    Admin.cell(row, value === null || value === undefined ? '–' : value);
    body.appendChild(row);
  }
}

function renderErrors(errors) {
  const body = document.querySelector('#errors tbody');
  body.replaceChildren();
  for (const error of errors) {
    const row = document.createElement('tr');
    Admin.cell(row, error.ts);
    Admin.cell(row, error.component);
    Admin.cell(row, error.method + ' ' + error.route);
    Admin.cell(row, error.status);
    Admin.cell(row, error.request_id);
    Admin.cell(row, error.correlation_id);
    body.appendChild(row);
  }
  document.getElementById('no-errors').hidden = errors.length > 0;
}

async function refresh() {
  try {
    const [health, loops, errors] = await Promise.all([
      Admin.api('GET', '/health'),
      Admin.api('GET', '/api/loops/status'),
      Admin.api('GET', '/api/admin/errors'),
    ]);
    renderHealth(health);
    renderLoops(loops);
    renderErrors(errors.data || []);
    document.getElementById('refreshed').textContent = new Date().toLocaleTimeString();
    Admin.note('');
  } catch (error) {
    Admin.note(error.message, true);
  }
}

Admin.start(() => {
  refresh();
  if (timer === null) timer = setInterval(refresh, REFRESH_MS);
});
