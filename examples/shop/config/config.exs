import Config

# The unit's settings are in config/vigil_unit.exs, which the release does not carry.

# SIGHUP: vigil answers it with RELOADING=1, this, then READY=1.
config :vigil, sighup: {Shop.Reload, :reload, []}

# Checked before every watchdog ping: while one fails, pings stop and systemd restarts us.
config :vigil, health_checks: [{Shop.Health, :check, []}]

# Logs go to the journal, with priorities and fields (vigil_journal_h); the console's copy on
# stdout is turned off so that journald does not store each line twice.
if config_env() == :prod do
  if Version.match?(System.version(), ">= 1.15.0") do
    # Elixir 1.15 and later: Logger owns the default handler, and an app's handlers are added
    # from its own configuration by Logger.add_handlers/1 (Shop.Application).
    config :logger, :default_handler, false
    config :shop, :logger, [{:handler, :journal, :vigil_journal_h, %{}}]
  else
    # Elixir 1.14: kernel's configuration, read at boot, so the handler takes the boot's logs.
    config :kernel, :logger, [{:handler, :journal, :vigil_journal_h, %{}}]
    config :logger, backends: []
  end
end
