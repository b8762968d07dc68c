defmodule Vigil.WatchdogSummaryTest do
  # The application is restarted with a receiver's address: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  # A second datagram socket stands in for journald.
  setup do
    notify = Receiver.open()
    journal = Path.join(notify.dir, "journal")
    {:ok, socket} = :socket.open(:local, :dgram, :default)
    :ok = :socket.bind(socket, %{family: :local, path: journal})
    Application.put_env(:vigil, :journal_socket, journal)
    Application.put_env(:vigil, :watchdog_summary_interval, :infinity)

    on_exit(fn ->
      Application.put_env(:vigil, :watchdog_summary_interval, false)
      Application.delete_env(:vigil, :journal_socket)
      :socket.close(socket)
      Receiver.close(notify)
      Receiver.restart_vigil([{"NOTIFY_SOCKET", nil}, {"WATCHDOG_USEC", nil}])
    end)

    %{notify: notify, journal: socket}
  end

  defp fields(socket) do
    {:ok, entry} = :socket.recv(socket, 0, 1000)

    for line <- String.split(entry, "\n", trim: true), into: %{} do
      [key, value] = String.split(line, "=", parts: 2)
      {key, value}
    end
  end

  test "Vigil.watchdog_summary/0 writes the entry", %{notify: n, journal: j} do
    Receiver.restart_vigil([{"NOTIFY_SOCKET", n.path}, {"WATCHDOG_USEC", "200000"}])
    assert {:ok, "WATCHDOG=1"} = Receiver.recv(n)
    assert :ok = Vigil.watchdog_summary()
    entry = fields(j)
    assert entry["MESSAGE_ID"] == "7ae7a1b7f796442bb549d9dfeacc97af"
    assert entry["VIGIL_WATCHDOG_REASON"] == "requested"
    assert entry["VIGIL_WATCHDOG_USEC"] == "200000"
    assert String.to_integer(entry["VIGIL_WATCHDOG_PINGS"]) >= 1
    assert entry["MESSAGE"] =~ ~r/^watchdog: \d+ pings in \d+ s, 0 skipped, /
  end

  test "without a watchdog nothing is written", %{notify: n, journal: j} do
    Receiver.restart_vigil([{"NOTIFY_SOCKET", n.path}, {"WATCHDOG_USEC", nil}])
    assert {:error, :no_watchdog} = Vigil.watchdog_summary()
    assert {:error, :timeout} = :socket.recv(j, 0, 200)
  end
end
