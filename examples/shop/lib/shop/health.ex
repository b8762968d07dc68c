defmodule Shop.Health do
  @moduledoc """
  The health check vigil runs before each watchdog ping. The `wedge` command of the listener
  makes it fail for good, as a stuck node would: pings stop and systemd restarts the service.
  """

  @doc "`:ok` while healthy."
  @spec check() :: :ok | {:error, :wedged}
  def check do
    if Application.get_env(:shop, :wedged, false), do: {:error, :wedged}, else: :ok
  end

  @doc "Makes every later check fail."
  @spec wedge() :: :ok
  def wedge, do: Application.put_env(:shop, :wedged, true)
end
