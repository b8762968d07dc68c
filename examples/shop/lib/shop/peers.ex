defmodule Shop.Peers do
  @moduledoc """
  Keeps this node connected to the nodes named in `SHOP_PEERS`, as a discovery library with a
  static list of hosts does: every 200 ms, a connection to each one that is not connected. A
  peer that restarts is joined again without anyone's help.
  """
  use Task, restart: :permanent

  @doc "Starts the loop over `peers` (node names)."
  @spec start_link([node()]) :: {:ok, pid()}
  def start_link(peers), do: Task.start_link(__MODULE__, :run, [peers])

  @doc false
  @spec run([node()]) :: no_return()
  def run(peers) do
    for peer <- peers, peer not in Node.list(), do: Node.connect(peer)
    Process.sleep(200)
    run(peers)
  end
end
