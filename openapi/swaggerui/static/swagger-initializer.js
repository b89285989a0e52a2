// hubgw's Swagger UI: the gateway's own document, nothing fetched from
// anywhere else. validatorUrl null keeps the page from sending the document
// to Swagger's online validator (the vendored bundle's default is nulled too).
window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "../openapi.json", // relative: works behind a path prefix
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    // Thousands of operations: start with the namespaces folded and let
    // people filter by namespace.
    docExpansion: "none",
    filter: true,
    defaultModelsExpandDepth: -1,
    displayRequestDuration: true,
    displayOperationId: false,
    tryItOutEnabled: true,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
};
