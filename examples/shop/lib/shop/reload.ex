defmodule Shop.Reload do
  @moduledoc """
  What `systemctl reload shop` does, through SIGHUP (`config :vigil, sighup: ...`): vigil sends
  RELOADING=1, calls `reload/0`, then READY=1. `SHOP_RELOAD_MS` makes the reload take that
  long.
  """

  @doc "Re-reads the configuration: here, counts the generation and shows it."
  @spec reload() :: :ok
  def reload do
    Process.sleep(Application.fetch_env!(:shop, :reload_ms))
    generation = Application.get_env(:shop, :generation, 0) + 1
    Application.put_env(:shop, :generation, generation)
    port = Application.fetch_env!(:shop, :port)
    _ = Vigil.status("serving on :#{port}, configuration generation #{generation}")
    :ok
  end

  @doc "How many reloads this node has done."
  @spec generation() :: non_neg_integer()
  def generation, do: Application.get_env(:shop, :generation, 0)
end
