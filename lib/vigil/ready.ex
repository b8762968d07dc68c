defmodule Vigil.Ready do
  @moduledoc """
  A child that sends `READY=1` when its supervisor reaches it, that is once the children
  before it have started:

      children = [
        MyApp.Repo,
        MyAppWeb.Endpoint,
        {Vigil.Ready, status: "serving on :4000"}
      ]

  It is not a process: its start function sends `READY=1` (with `STATUS=` the `:status`
  option, in the same datagram) and returns `:ignore`. The supervisor keeps it, so when the
  children before it are restarted (`:rest_for_one`, `:one_for_all`) it sends again: the
  manager ignores `READY=1` from a running service, and the status line replaces the one a
  crash left. Options: `:status`, `:id` (default `Vigil.Ready`).

  Without one, vigil sends `READY=1` itself once the release has finished booting (every
  application started), with `STATUS=ready (READY=1 sent by vigil at the end of boot)`;
  `config :vigil, ready: :manual` turns that off and logs a warning instead. A `Vigil.Ready`
  child always runs before the end of boot, so the one it sends is the one that counts, even
  after slow children.
  """

  @doc "The child spec; see the module documentation for the options."
  @spec child_spec(keyword()) :: Supervisor.child_spec()
  def child_spec(options) do
    :vigil.ready_spec(Keyword.put_new(options, :id, __MODULE__))
  end
end
