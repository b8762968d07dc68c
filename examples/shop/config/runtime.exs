import Config

int = fn name, default -> String.to_integer(System.get_env(name, default)) end
yes = fn name, default -> System.get_env(name, default) in ~w(1 yes true) end

config :shop,
  port: int.("SHOP_PORT", "4000"),
  ready_delay_ms: int.("SHOP_READY_DELAY_MS", "0"),
  boot_ms: int.("SHOP_BOOT_MS", "0"),
  boot_extend: yes.("SHOP_BOOT_EXTEND", "yes"),
  inject: yes.("SHOP_INJECT", "no"),
  drain_ms: int.("SHOP_DRAIN_MS", "5000"),
  reload_ms: int.("SHOP_RELOAD_MS", "0"),
  # Hand the listener to systemd's fd store (the unit needs FileDescriptorStoreMax=).
  fd_store: yes.("SHOP_FD_STORE", "no"),
  # Nodes to stay connected to (Shop.Peers), separated by spaces.
  peers: System.get_env("SHOP_PEERS", "") |> String.split() |> Enum.map(&String.to_atom/1)

# What vigil does at a memory pressure event (MemoryPressureWatch=): SHOP_PRESSURE_ACTION=gc
# garbage-collects the largest processes; none only tells the subscribers (Shop.Pressure).
case System.get_env("SHOP_PRESSURE_ACTION", "none") do
  "gc" -> config :vigil, memory_pressure_action: :gc
  _ -> config :vigil, memory_pressure_action: :none
end
