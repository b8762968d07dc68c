defmodule Vigil.WatchdogTest do
  # The application is restarted with a receiver's address: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  defmodule Checks do
    @moduledoc false
    def boom, do: raise("boom")
    def gone, do: exit(:noproc)
    def down, do: {:error, :down}
  end

  defmodule LogHandler do
    @moduledoc false
    # A logger handler that sends the text of every error to the test process.
    def log(%{level: :error, msg: msg}, %{config: %{pid: pid}}), do: send(pid, {:log, text(msg)})
    def log(_event, _config), do: :ok

    defp text({:string, s}), do: IO.chardata_to_string(s)
    defp text({format, args}), do: IO.chardata_to_string(:io_lib.format(format, args))
    defp text(other), do: inspect(other)
  end

  # A ping every 100 ms, a 200 ms timeout: the first failing check lets the watchdog expire.
  setup context do
    receiver = Receiver.open()
    Application.put_env(:vigil, :health_checks, [{Checks, context.check, []}])
    :ok = :logger.add_handler(__MODULE__, LogHandler, %{config: %{pid: self()}})

    Receiver.restart_vigil([{"NOTIFY_SOCKET", receiver.path}, {"WATCHDOG_USEC", "200000"}])
    # The checks run once the application is up.
    :ok = Vigil.ready()

    on_exit(fn ->
      :logger.remove_handler(__MODULE__)
      Application.delete_env(:vigil, :health_checks)
      Receiver.close(receiver)
      Receiver.restart_vigil([{"NOTIFY_SOCKET", nil}, {"WATCHDOG_USEC", nil}])
    end)

    %{receiver: receiver}
  end

  defp failure(receiver) do
    assert_receive {:log, text}, 2000
    {text, status(receiver)}
  end

  defp status(receiver) do
    case Receiver.recv(receiver) do
      {:ok, "STATUS=" <> status} -> status
      {:ok, _other} -> status(receiver)
    end
  end

  @tag check: :boom
  test "an exception is told as Elixir tells it", %{receiver: r} do
    {text, status} = failure(r)
    assert text =~ "health check Vigil.WatchdogTest.Checks.boom/0 failed: ** (RuntimeError) boom"
    assert text =~ "watchdog will expire"

    assert status ==
             "watchdog: health check Vigil.WatchdogTest.Checks.boom/0 failed: " <>
               "** (RuntimeError) boom"
  end

  @tag check: :gone
  test "an exit is told as Elixir tells it", %{receiver: r} do
    {text, status} = failure(r)
    assert text =~ "Vigil.WatchdogTest.Checks.gone/0 failed: ** (exit) no process"
    assert status =~ "Vigil.WatchdogTest.Checks.gone/0 failed: ** (exit) no process"
  end

  @tag check: :down
  test "a wrong value is inspected", %{receiver: r} do
    {text, status} = failure(r)
    assert text =~ "Vigil.WatchdogTest.Checks.down/0 failed: returned {:error, :down}"
    assert status =~ "failed: returned {:error, :down}"
  end
end
