defmodule Vigil.SupervisionTest do
  # Vigil.Ready, Vigil.Status, the watchdog and reload from Elixir, against a real receiver.
  # The application is restarted with the receiver's address: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  defmodule Worker do
    @moduledoc false
    use Agent

    def start_link(_), do: Agent.start_link(fn -> :ok end)
  end

  setup do
    receiver = Receiver.open()
    Receiver.restart_vigil([{"NOTIFY_SOCKET", receiver.path}, {"WATCHDOG_USEC", nil}])

    on_exit(fn ->
      Receiver.close(receiver)
      Receiver.restart_vigil([{"NOTIFY_SOCKET", nil}, {"WATCHDOG_USEC", nil}])
    end)

    %{receiver: receiver}
  end

  defp start_tree(strategy) do
    children = [
      Worker,
      {Vigil.Status, up: "serving", down: "draining"},
      {Vigil.Ready, status: "ready — 1 worker"}
    ]

    start_supervised!(%{
      id: :tree,
      start: {Supervisor, :start_link, [children, [strategy: strategy]]},
      type: :supervisor
    })
  end

  defp child(sup, id) do
    {^id, pid, _, _} = List.keyfind(Supervisor.which_children(sup), id, 0)
    pid
  end

  test "status, then readiness, then the down status when the tree stops", %{receiver: r} do
    start_tree(:one_for_one)
    assert {:ok, "STATUS=serving"} = Receiver.recv(r)
    assert {:ok, "READY=1\nSTATUS=ready — 1 worker"} = Receiver.recv(r)
    assert :ok = stop_supervised(:tree)
    assert {:ok, "STATUS=draining"} = Receiver.recv(r)
  end

  test "Vigil.Status is an OTP process and Vigil.Ready leaves none", %{receiver: r} do
    sup = start_tree(:one_for_one)
    assert {:ok, _} = Receiver.recv(r)
    assert {:ok, _} = Receiver.recv(r)
    status = child(sup, Vigil.Status)
    # sys(3) documents get_status/1's answer for a gen_server; the state inside is vigil's own.
    assert {:status, ^status, {:module, :gen_server}, _} = :sys.get_status(status)
    assert :ok = :sys.suspend(status)
    assert :ok = :sys.resume(status)
    assert child(sup, Vigil.Ready) == :undefined
    assert :ok = stop_supervised(:tree)
    assert {:ok, "STATUS=draining"} = Receiver.recv(r)
  end

  test "rest_for_one: a restart before Vigil.Ready sends READY=1 again", %{receiver: r} do
    sup = start_tree(:rest_for_one)
    assert {:ok, _} = Receiver.recv(r)
    assert {:ok, _} = Receiver.recv(r)
    Process.exit(child(sup, Worker), :kill)
    assert {:ok, "STATUS=draining"} = Receiver.recv(r)
    assert {:ok, "STATUS=serving"} = Receiver.recv(r)
    assert {:ok, "READY=1\nSTATUS=ready — 1 worker"} = Receiver.recv(r)
  end

  test "child specs refuse unknown options" do
    assert_raise ArgumentError, fn -> Vigil.Ready.child_spec(stauts: "x") end
    assert_raise ArgumentError, fn -> Vigil.Status.child_spec(up: 42) end
  end

  test "watchdog from Elixir: timeout, pings, enable and disable", %{receiver: r} do
    assert %{active: false, timeout: :undefined} = Vigil.watchdog_info()
    assert :ok = Vigil.watchdog_timeout(200)
    assert {:ok, "WATCHDOG_USEC=200000"} = Receiver.recv(r)
    assert {:ok, "WATCHDOG=1"} = Receiver.recv(r)
    assert :ok = Vigil.watchdog(:enable)
    assert %{enabled: true, active: true, interval: 100, pings: pings} = Vigil.watchdog_info()
    assert pings >= 1
    assert :ok = Vigil.watchdog(:disable)
    assert %{enabled: false, active: false} = Vigil.watchdog_info()
  end

  test "reload: RELOADING, the function, READY; a raise is a failure", %{receiver: r} do
    assert :ok = Vigil.reload(fn -> :ok end)
    assert {:ok, "RELOADING=1\nMONOTONIC_USEC=" <> _} = Receiver.recv(r)
    assert {:ok, "READY=1"} = Receiver.recv(r)

    assert {:error, {:reload_failed, {:error, %RuntimeError{}}}} =
             Vigil.reload(fn -> raise "bad config" end)

    assert {:ok, "RELOADING=1\n" <> _} = Receiver.recv(r)
    assert {:ok, "READY=1\nERRNO=22\nSTATUS=reload failed: " <> _} = Receiver.recv(r)
  end
end
