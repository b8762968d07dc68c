defmodule Vigil.PressureTest do
  # The application is restarted with MEMORY_PRESSURE_WATCH: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  # MEMORY_PRESSURE_WATCH names an AF_UNIX stream socket this test listens on; what it sends
  # is a pressure event.
  setup do
    dir =
      Path.join(System.tmp_dir!(), "vigil-exunit-pressure-#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    path = Path.join(dir, "watch")
    {:ok, listener} = :socket.open(:local, :stream, :default)
    :ok = :socket.bind(listener, %{family: :local, path: path})
    :ok = :socket.listen(listener)
    Application.put_env(:vigil, :memory_pressure_action, {:gc, 3})
    Receiver.restart_vigil([{"MEMORY_PRESSURE_WATCH", path}, {"MEMORY_PRESSURE_WRITE", nil}])
    {:ok, peer} = :socket.accept(listener, 2000)

    on_exit(fn ->
      :socket.close(peer)
      :socket.close(listener)
      Application.delete_env(:vigil, :memory_pressure_action)
      Receiver.restart_vigil([{"MEMORY_PRESSURE_WATCH", nil}])
      File.rm_rf!(dir)
    end)

    %{peer: peer, path: path}
  end

  test "a subscriber gets {:vigil, :memory_pressure, info} with the gc action's result",
       %{peer: peer, path: path} do
    assert :ok = Vigil.subscribe(:memory_pressure)
    :ok = :socket.send(peer, "pressure")
    assert_receive {:vigil, :memory_pressure, info}, 2000
    assert %{events: 1, action: %{collected: 3, before: before, after: after_gc}} = info
    assert info.path == path
    assert is_integer(before) and is_integer(after_gc)
    assert :ok = Vigil.unsubscribe(:memory_pressure)
  end

  test "after unsubscribe nothing comes", %{peer: peer} do
    assert :ok = Vigil.subscribe(:memory_pressure)
    assert :ok = Vigil.unsubscribe(:memory_pressure)
    :ok = :socket.send(peer, "pressure")
    refute_receive {:vigil, :memory_pressure, _}, 1500
  end
end
