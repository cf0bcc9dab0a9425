"""JSON-RPC 2.0 over newline-delimited JSON: a sans-IO connection core and thin transports."""
