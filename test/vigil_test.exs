defmodule VigilTest do
  # The application is restarted with a receiver's address: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  describe "under a manager" do
    setup do
      %{receiver: Receiver.under_manager()}
    end

    test "each function sends its exact bytes", %{receiver: r} do
      assert Vigil.enabled?()
      assert :ok = Vigil.ready()
      assert {:ok, "READY=1"} = Receiver.recv(r)
      assert :ok = Vigil.status("serving on :4000 — ok")
      assert {:ok, "STATUS=serving on :4000 — ok"} = Receiver.recv(r)
      assert :ok = Vigil.stopping()
      assert {:ok, "STOPPING=1"} = Receiver.recv(r)
      assert :ok = Vigil.extend_timeout(2_000)
      assert {:ok, "EXTEND_TIMEOUT_USEC=2000000"} = Receiver.recv(r)
      assert :ok = Vigil.errno(11)
      assert {:ok, "ERRNO=11"} = Receiver.recv(r)
      assert :ok = Vigil.exit_status(2)
      assert {:ok, "EXIT_STATUS=2"} = Receiver.recv(r)
      assert :ok = Vigil.mainpid(99)
      assert {:ok, "MAINPID=99"} = Receiver.recv(r)
      assert :ok = Vigil.watchdog(:ping)
      assert {:ok, "WATCHDOG=1"} = Receiver.recv(r)
      assert :ok = Vigil.reloading()
      assert {:ok, "RELOADING=1\nMONOTONIC_USEC=" <> usec} = Receiver.recv(r)
      assert String.to_integer(usec) > 0
      assert :ok = Vigil.notify([{:READY, 1}, {"STATUS", ~c"up"}])
      assert {:ok, "READY=1\nSTATUS=up"} = Receiver.recv(r)
    end

    test "an exception message in a status cannot inject READY=1", %{receiver: r} do
      message = Exception.message(%RuntimeError{message: "boom\nREADY=1"})
      assert :ok = Vigil.status("crashed: " <> message)
      assert {:ok, "STATUS=crashed: boom READY=1"} = Receiver.recv(r)
    end

    test "strict notify refuses what the manager would misread", %{receiver: r} do
      assert {:error, {:invalid, "STATUS"}} = Vigil.notify([{"STATUS", "a\nREADY=1"}])
      assert {:error, {:invalid, :lower}} = Vigil.notify([{:lower, 1}])
      assert {:error, :emsgsize} = Vigil.notify([{"X", String.duplicate("a", 5000)}])
      assert_raise ArgumentError, fn -> Vigil.notify([{"X", 1.0}]) end
      assert {:error, :timeout} = Receiver.recv(r, 100)
    end

    test "the environment is not passed on to children" do
      assert System.get_env("NOTIFY_SOCKET") == nil
      refute System.cmd("env", []) |> elem(0) |> String.contains?("NOTIFY_SOCKET")
    end
  end

  describe "without a manager" do
    setup do
      Receiver.restart_vigil([{"NOTIFY_SOCKET", nil}])
    end

    test "every call returns :ok and sends nothing" do
      refute Vigil.enabled?()

      for call <- [
            fn -> Vigil.ready() end,
            fn -> Vigil.status("x") end,
            fn -> Vigil.reloading() end,
            fn -> Vigil.stopping() end,
            fn -> Vigil.extend_timeout(1) end,
            fn -> Vigil.watchdog(:ping) end,
            fn -> Vigil.notify([{"A", "b"}]) end,
            fn -> Vigil.barrier(10) end
          ] do
        assert :ok = call.()
      end
    end
  end
end
