import Config

# The systemd unit, written by `MIX_ENV=prod mix vigil.gen.unit` to _build/prod/systemd/
# (keys as `vigil-unit --help` lists them; the hardening profile is the default, strict). This
# file is read by the task only: unlike config.exs, it does not ship in the release's sys.config.
config :vigil, :unit,
  listen_ports: [4000],
  env_vars: ["SHOP_PORT=4000"],
  # `systemctl reload shop` sends SIGHUP (ExecReload= on systemd 252, Type=notify-reload on 253+).
  reload: :sighup,
  # Optional settings for the operator, read at each start (SHOP_* below).
  env_files: ["-/etc/shop/shop.env"]
