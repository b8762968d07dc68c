defmodule Shop.Listener do
  @moduledoc """
  A line protocol on TCP, one command per line:

    * `ping` → `pong`
    * `echo TEXT` → `TEXT`
    * `generation` → how many reloads this node has done
    * `wedge` → `wedged`; from now on the health check fails (see `Shop.Health`)
    * `probe COMMAND` → what the sandbox lets this node do (see `Shop.Probe`)
    * `listener` → where the listening socket came from: `systemd` (a socket unit or the fd
      store), `stored` (opened here and handed to the fd store) or `own`
    * `unstore` → `ok` once the listener is out of the fd store

  On shutdown it stops accepting, then lets open connections finish for at most
  `SHOP_DRAIN_MS` before closing them.
  """
  use GenServer
  require Logger

  # How long one accept waits before the acceptor looks for a stop request.
  @accept_poll_ms 100

  # The supervisor waits this long for terminate/2: the acceptor stopping, then the drain.
  # The default (5 s) would kill the listener, and the connections it drains, mid-drain.
  @doc false
  def child_spec(opts) do
    shutdown = Application.fetch_env!(:shop, :drain_ms) + @accept_poll_ms * 5 + 1_000
    %{id: __MODULE__, start: {__MODULE__, :start_link, [opts]}, shutdown: shutdown}
  end

  @doc false
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl GenServer
  def init(opts) do
    Process.flag(:trap_exit, true)
    port = Keyword.fetch!(opts, :port)
    tcp = [:binary, packet: :line, active: false, reuseaddr: true]

    case listen(port, tcp) do
      {:ok, socket, source} ->
        me = self()
        acceptor = spawn_link(fn -> accept(socket, me) end)
        Logger.info("listening on :#{port_of(socket)} (#{source})")
        {:ok, %{socket: socket, acceptor: acceptor, conns: MapSet.new(), source: source}}

      {:error, reason} ->
        {:stop, {:listen, port, reason}}
    end
  end

  # The socket systemd passed as "http" (a socket unit, or the fd store), else a port of our
  # own, handed to the fd store when SHOP_FD_STORE says so.
  defp listen(port, tcp) do
    case Vigil.listen_options("http") do
      {:ok, from_systemd} ->
        with {:ok, socket} <- :gen_tcp.listen(0, from_systemd ++ tcp), do: {:ok, socket, :systemd}

      # A deep accept queue: in the fd store, it holds the clients that arrive while the VM
      # restarts (OTP's default is 5). systemd's sockets come with theirs (listen_options).
      {:error, _} ->
        with {:ok, socket} <- :gen_tcp.listen(port, [backlog: 1024] ++ tcp), do: store(socket)
    end
  end

  defp store(socket) do
    if Application.fetch_env!(:shop, :fd_store) do
      :ok = Vigil.store_fds([{"http", socket}])
      {:ok, socket, :stored}
    else
      {:ok, socket, :own}
    end
  end

  defp port_of(socket) do
    {:ok, {_, port}} = :inet.sockname(socket)
    port
  end

  @impl GenServer
  def handle_call(:source, _from, state), do: {:reply, state.source, state}

  @impl GenServer
  def handle_info({:accepted, conn}, state), do: {:noreply, serve_conn(conn, state)}

  def handle_info({:EXIT, pid, _reason}, state) do
    {:noreply, %{state | conns: MapSet.delete(state.conns, pid)}}
  end

  @impl GenServer
  def terminate(_reason, state) do
    Logger.info("closing the listener")
    send(state.acceptor, :stop)
    # A connection accepted before the acceptor stopped is served like the others.
    receive do
      {:EXIT, pid, _} when pid == state.acceptor -> :ok
    after
      @accept_poll_ms * 5 -> :ok
    end

    :gen_tcp.close(state.socket)

    state = serve_accepted(state)
    deadline = System.monotonic_time(:millisecond) + Application.fetch_env!(:shop, :drain_ms)
    left = drain(state.conns, deadline)
    Logger.info("drained; #{MapSet.size(left)} connection(s) closed unfinished")
  end

  defp serve_conn(conn, state) do
    pid = spawn_link(fn -> receive(do: ({:go, socket} -> serve(socket))) end)
    :ok = :gen_tcp.controlling_process(conn, pid)
    send(pid, {:go, conn})
    %{state | conns: MapSet.put(state.conns, pid)}
  end

  defp serve_accepted(state) do
    receive do
      {:accepted, conn} -> serve_accepted(serve_conn(conn, state))
    after
      0 -> state
    end
  end

  defp drain(conns, deadline) do
    wait = deadline - System.monotonic_time(:millisecond)

    if MapSet.size(conns) == 0 or wait <= 0 do
      conns
    else
      receive do
        {:EXIT, pid, _} -> drain(MapSet.delete(conns, pid), deadline)
      after
        wait -> conns
      end
    end
  end

  # Accepts until told to stop, between two accepts: closing the socket under a pending accept
  # can lose a connection the kernel has just handed over (the accept fails with einval and the
  # new connection is closed), so the listener stops the acceptor first and closes after. With
  # a socket from systemd, what arrives after that waits in its queue for the next VM.
  defp accept(socket, listener) do
    case :gen_tcp.accept(socket, @accept_poll_ms) do
      {:ok, conn} ->
        :ok = :gen_tcp.controlling_process(conn, listener)
        send(listener, {:accepted, conn})
        accept_unless_stopped(socket, listener)

      {:error, :timeout} ->
        accept_unless_stopped(socket, listener)

      {:error, :closed} ->
        :ok
    end
  end

  defp accept_unless_stopped(socket, listener) do
    receive do
      :stop -> :ok
    after
      0 -> accept(socket, listener)
    end
  end

  defp serve(socket) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, line} ->
        :gen_tcp.send(socket, [reply(String.trim_trailing(line)), ?\n])
        serve(socket)

      {:error, _closed} ->
        :gen_tcp.close(socket)
    end
  end

  defp reply("ping"), do: "pong"
  defp reply("echo " <> text), do: text
  defp reply("generation"), do: Integer.to_string(Shop.Reload.generation())

  defp reply("wedge") do
    Shop.Health.wedge()
    "wedged"
  end

  defp reply("probe " <> command), do: Shop.Probe.run(command)
  defp reply("listener"), do: Atom.to_string(GenServer.call(__MODULE__, :source))

  defp reply("unstore") do
    case Vigil.remove_fds("http") do
      :ok -> "ok"
      {:error, reason} -> "error #{inspect(reason)}"
    end
  end

  # "hog N MB": N idle processes holding MB MiB of dead heap each; "read PATH": a file read over
  # and over (file cache to reclaim); "memory": notices seen, and the VM's total memory in bytes.
  defp reply("hog " <> args) do
    [n, mb] = args |> String.split() |> Enum.map(&String.to_integer/1)
    :ok = Shop.Pressure.hog(n, mb)
    "ok #{:erlang.memory(:total)}"
  end

  defp reply("read " <> path) do
    :ok = Shop.Pressure.read_loop(path)
    "ok"
  end

  defp reply("memory") do
    {notices, bytes} = Shop.Pressure.stats()
    "#{notices} #{bytes}"
  end

  defp reply(other), do: "unknown command: " <> other
end
