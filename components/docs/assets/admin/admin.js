// Shared by the admin pages: sign-in (the access token stays in this tab's
// sessionStorage), API calls with it, and small DOM helpers. No innerHTML anywhere: every
// value is written as text.
'use strict';

const Admin = (() => {
  const KEY = 'crm-admin-token';
  const token = () => sessionStorage.getItem(KEY);

  function show(signedIn) {
    document.getElementById('sign-in').hidden = signedIn;
    document.getElementById('content').hidden = !signedIn;
    document.getElementById('sign-out').hidden = !signedIn;
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    show(false);
  }

  // The answer's JSON, or an Error with the problem's detail.
  async function api(method, path, body) {
    const headers = { accept: 'application/json' };
    if (token()) headers.authorization = 'Bearer ' + token();
    const init = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 401) {
      signOut();
      throw new Error('Your session ended: sign in again.');
    }
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!response.ok) {
      const detail = data && (data.detail || data.title);
      throw new Error(detail || 'HTTP ' + response.status);
    }
    return data;
  }

  function note(text, isError) {
    const element = document.getElementById('notice');
    element.textContent = text;
    element.className = isError ? 'notice error' : 'notice';
  }

  function cell(row, text) {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    row.appendChild(td);
    return td;
  }

  // Wires the sign-in form; `onSignedIn` runs once a token is there.
  function start(onSignedIn) {
    const form = document.getElementById('sign-in');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const status = document.getElementById('sign-in-status');
      status.textContent = 'Signing in…';
      try {
        const response = await fetch('/api/auth/token', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ email: form.elements.email.value, password: form.elements.password.value }),
        });
        const data = await response.json();
        if (!response.ok) throw new Error(data.detail || data.title || 'HTTP ' + response.status);
        sessionStorage.setItem(KEY, data.access_token);
        form.elements.password.value = '';
        status.textContent = '';
        show(true);
        onSignedIn();
      } catch (error) {
        status.textContent = error.message;
      }
    });
    document.getElementById('sign-out').addEventListener('click', signOut);
    show(Boolean(token()));
    if (token()) onSignedIn();
  }

  return { api, cell, note, start };
})();
