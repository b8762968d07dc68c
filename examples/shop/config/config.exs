import Config

# The systemd unit, written by `MIX_ENV=prod mix vigil.gen.unit` to _build/prod/systemd/
# (keys as `vigil-unit --help` lists them; the hardening profile is the default, strict).
config :vigil, :unit,
  listen_ports: [4000],
  env_vars: ["SHOP_PORT=4000"],
  # `systemctl reload shop` sends SIGHUP (ExecReload= on systemd 252, Type=notify-reload on 253+).
  reload: :sighup,
  # Optional settings for the operator, read at each start (SHOP_* below).
  env_files: ["-/etc/shop/shop.env"]

# SIGHUP: vigil answers it with RELOADING=1, this, then READY=1.
config :vigil, sighup: {Shop.Reload, :reload, []}

# Checked before every watchdog ping: while one fails, pings stop and systemd restarts us.
config :vigil, health_checks: [{Shop.Health, :check, []}]
