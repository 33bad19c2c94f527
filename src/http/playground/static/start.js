// The playground's start-up script (browser side, no build step): GraphiQL on React 18's UMD
// builds, which the page loads first. Reads its settings from data attributes on #graphiql.
// Served as a file, so the Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  var PLACEHOLDER = "<paste your token>";
  var root = document.getElementById("graphiql");
  var graphqlPath = root.getAttribute("data-graphql-path");
  var url = new URL(graphqlPath, window.location.href);
  var subscriptionUrl = new URL(graphqlPath, window.location.href);
  subscriptionUrl.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  // HTTP for queries and mutations; graphql-ws (bundled in GraphiQL) for subscriptions. The
  // headers from the Headers tab go with every HTTP request and, for subscriptions, as the
  // connection_init payload (connectionParams), e.g. { "Authorization": "Bearer ..." }.
  var baseFetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  // The Headers tab starts with a placeholder token; until it is replaced, send no Authorization
  // header at all (anonymous introspection still loads the docs; a bad token would be a 401).
  var fetcher = function (params, options) {
    var headers = options && options.headers;
    if (headers && typeof headers === "object") {
      var cleaned = {};
      Object.keys(headers).forEach(function (name) {
        var value = headers[name];
        var placeholder = name.toLowerCase() === "authorization" && typeof value === "string" && value.indexOf(PLACEHOLDER) !== -1;
        if (!placeholder) cleaned[name] = value;
      });
      options = Object.assign({}, options, { headers: cleaned });
    }
    return baseFetcher(params, options);
  };
  var defaultQuery = [
    "# backend-hub GraphQL playground",
    "#",
    "# 1. Paste your API token in the Headers tab",
    '#    below: "Authorization": "Bearer bh_..."',
    "# 2. Run with Ctrl-Enter or the \u25B6 button.",
    "# 3. Docs (book icon, top left) describe",
    "#    every type, field and argument.",
    "",
    "query Me {",
    "  me {",
    "    id",
    "    name",
    "    globalRole",
    "  }",
    "}",
    ""
  ].join("\n");
  var element = React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultHeaders: JSON.stringify({ Authorization: "Bearer " + PLACEHOLDER }, null, 2),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: "headers"
  });
  ReactDOM.createRoot(root).render(element);
})();
