defmodule Vigil.Status do
  @moduledoc """
  A process that shows a status line while the children before it run:

      children = [
        MyApp.Repo,
        MyAppWeb.Endpoint,
        {Vigil.Status, up: "serving", down: "draining"},
        Vigil.Ready
      ]

  It sends `STATUS=` the `:up` option when it starts and the `:down` option when its
  supervisor stops it. Children stop in the reverse order of their start, so `:down` is sent
  before the children above it stop. It traps exits and is a `GenServer`-style OTP process
  that answers `:sys` calls. Options: `:up`, `:down`, `:id` (default `Vigil.Status`).
  """

  @doc "The child spec; see the module documentation for the options."
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(options) do
    :vigil.status_spec(Keyword.put_new(options, :id, __MODULE__))
  end
end
