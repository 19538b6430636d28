"use strict";
// The API docs page (/api/docs/): Swagger UI on the schema named by the page, from a static file, so the
// Content-Security-Policy needs no inline script. "Authorize" takes an API key for "Try it out".
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
  });
})();
