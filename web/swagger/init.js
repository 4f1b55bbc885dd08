// Starts Swagger UI on Beacon's own OpenAPI document. A file, not an inline script, so the
// Content-Security-Policy can forbid inline scripts everywhere.
window.addEventListener('load', function () {
  window.SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    withCredentials: true,
    validatorUrl: null,
  })
})
