defmodule Vigil.SocketsTest do
  # The application is restarted with a receiver's address: tests must not run concurrently.
  use ExUnit.Case, async: false

  alias Vigil.TestReceiver, as: Receiver

  describe "the fd store, under a manager" do
    setup do
      %{receiver: Receiver.under_manager()}
    end

    test "store_fds passes the socket itself and returns once the manager read it", %{
      receiver: r
    } do
      {:ok, listen} = :gen_tcp.listen(0, [:binary, backlog: 16])
      {:ok, port} = :inet.port(listen)
      reader = Task.async(fn -> read_store(r) end)

      assert :ok = Vigil.store_fds([{"http", listen}], poll: false)

      assert {"FDSTORE=1\nFDNAME=http\nFDPOLL=0", [%{family: :inet, port: ^port}]} =
               Task.await(reader)

      :ok = :gen_tcp.close(listen)
    end

    test "remove_fds names what to remove; invalid names send nothing", %{receiver: r} do
      reader = Task.async(fn -> read_store(r) end)
      assert :ok = Vigil.remove_fds("http")
      assert {"FDSTOREREMOVE=1\nFDNAME=http", []} = Task.await(reader)

      assert {:error, {:invalid_name, "a:b"}} = Vigil.remove_fds("a:b")
      assert {:error, {:invalid_name, "é"}} = Vigil.store_fds([{"é", 0}])
      assert {:error, :timeout} = Receiver.recv(r, 100)
      assert_raise ArgumentError, fn -> Vigil.store_fds([{"x", :not_a_socket}]) end
    end
  end

  describe "without socket activation" do
    test "nothing is listed and nothing found" do
      assert [] = Vigil.listen_fds()
      assert {:error, :not_found} = Vigil.listen_options("http")
      assert_raise ArgumentError, fn -> Vigil.listen_options(:http) end
    end
  end

  describe "socket activation" do
    # A child VM started as systemd starts a service (test/c/listen_exec.c): a listening socket
    # on [::] at descriptor 3, then the options merged as Thousand Island merges them
    # (Keyword.merge/2 before 1.3.5).
    test "listen_options give a working listener that keeps systemd's backlog" do
      result =
        run_child(["-s", "tcp6:123", "-n", "http"], ~S"""
        {ok, Opts} = 'Elixir.Vigil':listen_options(<<"http">>),
        Merged = 'Elixir.Keyword':merge([{backlog, 1024}, {nodelay, true}], Opts),
        {ok, L} = gen_tcp:listen(0, Merged),
        {ok, {Addr, Port}} = inet:sockname(L),
        [_, _, SendQ | _] = string:lexemes(os:cmd("ss -ltnH 'sport = :" ++ integer_to_list(Port) ++ "'"), " \n"),
        #{fds => 'Elixir.Vigil':listen_fds(), opts => Opts, addr => Addr, backlog => list_to_integer(SendQ)}
        """)

      assert %{
               fds: [%{name: "http", fd: 3, family: :inet6, listening: true, backlog: 123}],
               opts: [tcp_module: :inet6_tcp, fd: fd, backlog: 123],
               addr: {0, 0, 0, 0, 0, 0, 0, 0},
               backlog: 123
             } = result

      assert fd > 3
    end
  end

  # The next fd store message and the sockets it carried, then the barrier, whose pipe is
  # dropped with the datagram (closing it, as the manager does once it has read what came
  # before).
  defp read_store(%{socket: socket}) do
    {:ok, %{iov: [data], ctrl: ctrl}} = :socket.recvmsg(socket, 0, 2048, [], 2000)
    {:ok, "BARRIER=1"} = :socket.recv(socket, 0, [], 2000)

    sockets =
      for %{level: :socket, type: :rights, data: fds} <- ctrl,
          <<fd::native-32 <- fds>> do
        {:ok, s} = :socket.open(fd, %{dup: false})
        {:ok, name} = :socket.sockname(s)
        :socket.close(s)
        name
      end

    {data, sockets}
  end

  # test/c/listen_exec.c, built into a directory removed when the test ends.
  defp listen_exec do
    dir =
      Path.join(
        System.tmp_dir!(),
        "vigil-exunit-listen-exec-#{System.unique_integer([:positive])}"
      )

    on_exit(fn -> File.rm_rf!(dir) end)
    File.mkdir_p!(dir)
    exec = Path.join(dir, "listen_exec")
    source = Path.expand("c/listen_exec.c", __DIR__)
    args = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-o", exec, source]
    {_, 0} = System.cmd("cc", args, stderr_to_stdout: true)
    exec
  end

  # Runs `body` (Erlang expressions) in a VM started through listen_exec with `args`, after
  # starting vigil, and returns the value of its last expression.
  defp run_child(args, body) do
    root = to_string(:code.root_dir())
    paths = for p <- :code.get_path(), p = to_string(p), not String.starts_with?(p, root), do: p
    # OTP 27 deprecates :code.lib_dir/2.
    elixir = :code.lib_dir(:elixir) |> Path.join("ebin")

    eval = """
    logger:set_primary_config(level, warning),
    {ok, _} = application:ensure_all_started(vigil),
    Result = begin #{body} end,
    io:format("=RESULT=~n~p.~n", [Result]),
    halt(0).
    """

    erl = System.find_executable("erl")
    pa = Enum.flat_map([elixir | paths], &["-pa", &1])

    {output, 0} =
      System.cmd(listen_exec(), args ++ ["--", erl, "-noshell"] ++ pa ++ ["-eval", eval],
        stderr_to_stdout: true
      )

    [_, term] = String.split(output, "=RESULT=\n")
    {:ok, tokens, _} = :erl_scan.string(String.to_charlist(term))
    {:ok, value} = :erl_parse.parse_term(tokens)
    value
  end
end
