import Config

# The unit's settings are in config/vigil_unit.exs, which the release does not carry.

# SIGHUP: vigil answers it with RELOADING=1, this, then READY=1.
config :vigil, sighup: {Shop.Reload, :reload, []}

# Checked before every watchdog ping: while one fails, pings stop and systemd restarts us.
config :vigil, health_checks: [{Shop.Health, :check, []}]

if config_env() == :prod do
  # Logs go to the journal from the boot on, with priorities and fields (vigil_journal_h); the
  # console's copy on stdout is turned off so that journald does not store each line twice.
  config :kernel, :logger, [{:handler, :journal, :vigil_journal_h, %{}}]
  config :logger, backends: []
end
