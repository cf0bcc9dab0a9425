"""Upstream `app-server/tests/suite/v2/analytics.rs` (2 tests): no twins, out of scope.

`app_server_default_analytics_disabled_without_flag` and
`app_server_default_analytics_enabled_with_flag` are not black-box tests of the app-server: they
call the reference's OpenTelemetry set-up function (`codex_core::otel_init::build_provider`)
directly and check whether it builds a metrics exporter. Parley sends no analytics or metrics
anywhere (the file's helpers, used by the `…_tracks_…_analytics` tests elsewhere, post events to
the ChatGPT backend with a ChatGPT sign-in, which Parley does not offer), so there is no
behaviour on the wire to twin.
"""
