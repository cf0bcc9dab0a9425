"""The app-server: one process-wide `AppServer` and a `ClientSession` per connection."""
