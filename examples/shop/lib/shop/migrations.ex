defmodule Shop.Migrations do
  @moduledoc """
  Stands for the database migrations a release runs at boot. `SHOP_BOOT_MS` makes them take
  that long, in steps of at most a second; before each step the service asks systemd for more
  time with `Vigil.extend_timeout/1`, so a boot longer than `TimeoutStartSec=` still succeeds.
  `SHOP_BOOT_EXTEND=no` leaves that out, to see the timeout strike.
  """

  @step_ms 1_000

  @doc false
  def child_spec(_), do: %{id: __MODULE__, start: {__MODULE__, :run, []}, restart: :temporary}

  @doc "Runs every step, then returns `:ignore`: nothing stays running."
  def run do
    total = Application.fetch_env!(:shop, :boot_ms)
    extend? = Application.fetch_env!(:shop, :boot_extend)
    steps = div(total + @step_ms - 1, @step_ms)

    for step <- 1..steps//1 do
      if extend?, do: :ok = Vigil.extend_timeout(2 * @step_ms)
      Vigil.status("migrating: step #{step} of #{steps}")
      Process.sleep(min(@step_ms, total - (step - 1) * @step_ms))
    end

    :ignore
  end
end
