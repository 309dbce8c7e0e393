"""Who may do what in the web catalog: people's principals, decisions per action, access requests, credentials and
the access log. A plain library: the web app and the CLI both use it."""
