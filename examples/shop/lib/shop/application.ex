defmodule Shop.Application do
  @moduledoc false
  use Application

  @impl Application
  def start(_type, _args) do
    add_log_handlers()
    port = Application.fetch_env!(:shop, :port)
    peers = Application.get_env(:shop, :peers, [])

    children = [
      # A long boot (migrations): asks systemd for more time before each step.
      Shop.Migrations,
      # Logs vigil's memory pressure notices; the "hog" command causes them.
      Shop.Pressure,
      {Shop.Listener, port: port},
      # Caches that must be warm before the service counts as ready.
      Shop.Warmup,
      # The cluster's other nodes, when SHOP_PEERS names them.
      peers != [] && {Shop.Peers, peers},
      # "serving" while the tree is up, "draining" before the children above stop.
      {Vigil.Status, up: "serving on :#{port}", down: "draining"},
      # READY=1 once everything above has started.
      {Vigil.Ready, status: "serving on :#{port}"}
    ]

    Supervisor.start_link(Enum.filter(children, & &1),
      strategy: :one_for_one,
      name: Shop.Supervisor
    )
  end

  # Elixir 1.15 and later: the journal handler of `config :shop, :logger` (config/config.exs).
  # Elixir 1.14 has no Logger.add_handlers/1 (kernel adds the handler at boot there): called
  # through apply/3 so that 1.14 compiles this without a warning.
  defp add_log_handlers do
    if Code.ensure_loaded?(Logger) and function_exported?(Logger, :add_handlers, 1) do
      :ok = apply(Logger, :add_handlers, [:shop])
    end
  end
end
