"""Swagger UI for the local stack at /docs, from the files of the swagger-ui-py package (no CDN: offline)."""

from importlib import resources

DOCS_PATH = "/docs"
_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "application/javascript",
    "swagger-ui-standalone-preset.js": "application/javascript",
    "favicon-32x32.png": "image/png",
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>batchops API (local)</title>
  <link rel="stylesheet" href="{docs}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{docs}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{docs}/swagger-ui-bundle.js"></script>
  <script src="{docs}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
      persistAuthorization: true
    }});
  </script>
</body>
</html>
"""


def docs_response(path: str) -> tuple[int, str, bytes]:
    """(status, content type, body) for a path under /docs."""
    if path in (DOCS_PATH, f"{DOCS_PATH}/"):
        return 200, "text/html; charset=utf-8", _PAGE.format(docs=DOCS_PATH).encode()
    name = path.removeprefix(f"{DOCS_PATH}/")
    if name not in _ASSETS:
        return 404, "text/plain", b"Not Found"
    return 200, _ASSETS[name], (resources.files("swagger_ui") / "static" / name).read_bytes()
