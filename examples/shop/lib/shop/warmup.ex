defmodule Shop.Warmup do
  @moduledoc """
  Stands for the work between opening the listener and being ready, e.g. filling caches:
  `SHOP_READY_DELAY_MS` makes it take that long.

  `SHOP_INJECT=yes` sends, before readiness, a status that tries to smuggle in a `READY=1`
  line, the way an exception message or user input could. It must stay a status.
  """
  require Logger

  @doc false
  def child_spec(_), do: %{id: __MODULE__, start: {__MODULE__, :run, []}, restart: :temporary}

  @doc "Waits, then returns `:ignore`: nothing stays running."
  def run do
    if Application.fetch_env!(:shop, :inject) do
      :ok = Vigil.status("warming up\nREADY=1")
      raw = Vigil.notify([{"STATUS", "warming up\nREADY=1"}])
      Logger.info("notify with a line break in STATUS returned #{inspect(raw)}")
    else
      Vigil.status("warming up")
    end

    Process.sleep(Application.fetch_env!(:shop, :ready_delay_ms))
    :ignore
  end
end
