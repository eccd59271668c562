// Starts Swagger UI on the API's own document. A file of its own rather than an inline
// script, so that the page's Content-Security-Policy can be `script-src 'self'`.
"use strict";

window.ui = window.SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  presets: [window.SwaggerUIBundle.presets.apis],
  plugins: [window.SwaggerUIBundle.plugins.DownloadUrl],
  deepLinking: true,
  // Keep what was entered in Authorize (access token, API key) across reloads.
  persistAuthorization: true,
  // No badge fetched from a validator on another host.
  validatorUrl: null,
  // Never take the document's URL or other settings from the page's query string.
  queryConfigEnabled: false,
  displayRequestDuration: true,
  filter: true,
  tryItOutEnabled: false,
});
