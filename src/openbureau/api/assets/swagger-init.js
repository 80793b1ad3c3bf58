// Starts Swagger UI on the bureau's own OpenAPI document (a file, not an inline script, so that the page's
// content security policy allows scripts from the bureau only). No validator badge: it would call a server
// outside the bureau.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.getElementById("swagger-ui").dataset.openapi,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
