// /admin/flags: lists the flags; a checkbox switches one on or off, a number sets its
// rollout percentage, a form sets any flag. Each change is a PUT /api/flags/{name} with the
// whole state, and the list is read again from the API afterwards.
'use strict';

async function save(name, state) {
  try {
    await Admin.api('PUT', '/api/flags/' + encodeURIComponent(name), state);
    Admin.note('Saved ' + name + '.');
  } catch (error) {
    Admin.note(name + ': ' + error.message, true);
  }
  await load();
}

function row(flag) {
  const tr = document.createElement('tr');
  tr.dataset.flag = flag.name;
  tr.dataset.enabled = String(flag.enabled);
  tr.dataset.percentage = String(flag.percentage);
  const name = Admin.cell(tr, flag.name);
  if (flag.description) name.title = flag.description;

  const toggle = document.createElement('input');
  toggle.type = 'checkbox';
  toggle.className = 'toggle';
  toggle.checked = flag.enabled;
  toggle.setAttribute('aria-label', 'enable ' + flag.name);
  toggle.addEventListener('change', () =>
    save(flag.name, { enabled: toggle.checked, percentage: flag.percentage, allow: flag.allow }));
  Admin.cell(tr, '').appendChild(toggle);

  const percentage = document.createElement('input');
  percentage.type = 'number';
  percentage.min = '0';
  percentage.max = '100';
  percentage.className = 'percentage';
  percentage.value = String(flag.percentage);
  percentage.setAttribute('aria-label', 'percentage of ' + flag.name);
  const apply = document.createElement('button');
  apply.type = 'button';
  apply.className = 'apply';
  apply.textContent = 'Set';
  apply.addEventListener('click', () =>
    save(flag.name, { enabled: flag.enabled, percentage: Number(percentage.value), allow: flag.allow }));
  const percentageCell = Admin.cell(tr, '');
  percentageCell.append(percentage, ' % ', apply);

  Admin.cell(tr, flag.allow.join(', '));
  Admin.cell(tr, flag.source);
  Admin.cell(tr, flag.updated_at ? flag.updated_at + ' by ' + flag.updated_by : '–');
  return tr;
}

async function load() {
  try {
    const answer = await Admin.api('GET', '/api/flags');
    const body = document.querySelector('#flags tbody');
    body.replaceChildren(...answer.data.map(row));
    document.getElementById('flags').dataset.loaded = 'true';
  } catch (error) {
    Admin.note(error.message, true);
  }
}

document.getElementById('new-flag').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  save(form.elements.name.value, {
    enabled: form.elements.enabled.checked,
    percentage: Number(form.elements.percentage.value),
  });
});

Admin.start(load);
