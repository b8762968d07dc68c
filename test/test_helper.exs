defmodule Vigil.TestReceiver do
  @moduledoc false
  # A real AF_UNIX datagram socket standing in for the manager, and a restart of the vigil
  # application with the environment systemd would give it.

  def open do
    name = "vigil-exunit-#{System.pid()}-#{System.unique_integer([:positive])}"
    dir = Path.join(System.tmp_dir!(), name)
    File.mkdir_p!(dir)
    path = Path.join(dir, "notify")
    {:ok, socket} = :socket.open(:local, :dgram, :default)
    :ok = :socket.bind(socket, %{family: :local, path: path})
    %{socket: socket, dir: dir, path: path}
  end

  def recv(%{socket: socket}, timeout \\ 1000), do: :socket.recv(socket, 0, timeout)

  def close(%{socket: socket, dir: dir}) do
    :socket.close(socket)
    File.rm_rf!(dir)
  end

  # For a test's setup: vigil restarted under a fresh receiver, and without a manager once the
  # test is over. Returns the receiver.
  def under_manager do
    receiver = open()
    restart_vigil([{"NOTIFY_SOCKET", receiver.path}])

    ExUnit.Callbacks.on_exit(fn ->
      close(receiver)
      restart_vigil([{"NOTIFY_SOCKET", nil}])
    end)

    receiver
  end

  # Variables given as nil are removed. The application's start/stop reports are silenced.
  def restart_vigil(env) do
    :logger.set_primary_config(:level, :warning)
    Application.stop(:vigil)
    :persistent_term.erase({:vigil, :env})
    for {k, v} <- env, do: if(v, do: System.put_env(k, v), else: System.delete_env(k))
    :ok = Application.start(:vigil)
  end
end

# No watchdog summary in the journal of the machine that runs the tests: each test restarts
# vigil, which reads it then (watchdog_summary_test.exs points it at a receiver instead).
Application.put_env(:vigil, :watchdog_summary_interval, false)

ExUnit.start()
