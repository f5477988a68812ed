// The API reference at /api/docs: Swagger UI (swagger-ui-dist, copied here at
// build time) on the platform's own OpenAPI document. A file, not an inline
// script, so that the web server's Content-Security-Policy holds here too.
/* global SwaggerUIBundle */
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
