import Config

# The unit's settings are in config/vigil_unit.exs, which the release does not carry.

# SIGHUP: vigil answers it with RELOADING=1, this, then READY=1.
config :vigil, sighup: {Shop.Reload, :reload, []}

# Checked before every watchdog ping: while one fails, pings stop and systemd restarts us.
config :vigil, health_checks: [{Shop.Health, :check, []}]
