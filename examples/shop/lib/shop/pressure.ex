defmodule Shop.Pressure do
  @moduledoc """
  Memory pressure, both ways: a subscriber to vigil's notices (`Vigil.subscribe(:memory_pressure)`)
  that logs each one and counts them, and a load to cause it on command (`hog`).

  `read_loop(path)` reads a file again and again, keeping nothing: its pages are the service's
  file cache, which the kernel takes back first when memory runs short, and reads in again at
  once. That is where memory pressure shows (PSI counts the time spent so) on a machine without
  swap; anonymous memory alone would go straight to the OOM killer.

  `hog(n, mb)` starts `n` processes that each build a heap of about `mb` MiB and go idle keeping
  none of it: the data is dead, but an idle process is not collected again, so the memory stays
  taken until something runs a garbage collection (vigil's `memory_pressure_action: :gc`).
  """
  use GenServer
  require Logger

  def start_link(_), do: GenServer.start_link(__MODULE__, [], name: __MODULE__)

  @doc "How many notices came, and the VM's total memory in bytes."
  @spec stats() :: {non_neg_integer(), non_neg_integer()}
  def stats, do: {GenServer.call(__MODULE__, :count), :erlang.memory(:total)}

  @doc "Start `n` idle processes holding about `mb` MiB of dead heap each."
  @spec hog(pos_integer(), pos_integer()) :: :ok
  def hog(n, mb) do
    for _ <- 1..n do
      parent = self()
      spawn(fn -> build(mb, parent) end)
      receive do: (:built -> :ok)
    end

    :ok
  end

  @doc "Read the file at `path` over and over, in a process of its own."
  @spec read_loop(Path.t()) :: :ok
  def read_loop(path) do
    {:ok, _} = Task.start(fn -> read_forever(path) end)
    :ok
  end

  defp read_forever(path) do
    {:ok, io} = :file.open(path, [:read, :raw, :binary])
    read_all(io)
    :ok = :file.close(io)
    Process.sleep(100)
    read_forever(path)
  end

  defp read_all(io) do
    case :file.read(io, 1_048_576) do
      {:ok, _} -> read_all(io)
      :eof -> :ok
    end
  end

  # A list of mb MiB (a cons cell is 16 bytes), its length taken so that it is really built,
  # then dropped: the process idles in receive with the dead list on its heap.
  defp build(mb, parent) do
    cells = div(mb * 1_048_576, 16)
    ^cells = length(Enum.to_list(1..cells))
    send(parent, :built)

    receive do
      :stop -> :ok
    end
  end

  @impl GenServer
  def init([]) do
    :ok = Vigil.subscribe(:memory_pressure)
    {:ok, 0}
  end

  @impl GenServer
  def handle_call(:count, _from, n), do: {:reply, n, n}

  @impl GenServer
  def handle_info({:vigil, :memory_pressure, info}, n) do
    Logger.notice("shop: memory pressure notice #{n + 1}: #{inspect(info)}")
    {:noreply, n + 1}
  end
end
