defmodule Shop.Probe do
  @moduledoc """
  Looks at the sandbox from inside the running node, for the real-systemd suite: what this
  process may read, write, bind and see, as systemd's unit set it up. Each command answers
  `ok ...` or `error REASON` (a POSIX atom such as `eacces`, `erofs`, `enoent`).

    * `read PATH` → `ok N` (bytes of a file, entries of a directory)
    * `write PATH` → `ok` once PATH holds a few bytes
    * `bind PORT` → `ok` when a TCP listener could be opened on PORT (and was closed again)
    * `connect IP PORT` → `ok` when a TCP connection could be opened
    * `env NAME` → `ok VALUE`, or `error unset`
    * `id` → `ok UID GID` of the node
    * `flavor` → `ok jit` or `ok emu`, how the VM runs code
    * `grep PATH TEXT` → `ok LINE`, the first line of the file PATH that holds TEXT
    * `node` → `ok NAME`, the node's name (`nonode@nohost` without distribution)
    * `halt` → the VM halts with a crash dump (`erlang:halt/1` with a message), answering nothing
    * `init restart|reboot|stop` → `ok`, then `:init.restart/0`, `:init.reboot/0` or `:init.stop/0`
      (what `System.restart/0`, `bin/shop restart` and `System.stop/0` do)
    * `log LEVEL ID TEXT` → `ok`, once TEXT (`\\n` in it read as a newline) is logged at LEVEL
      with the metadata `request_id: ID`
    * `log_big ID BYTES` → `ok`, once a message of BYTES bytes (`0123456789abcdef` repeated) is
      logged at info with `request_id: ID`
    * `flood ID COUNT PROCESSES` → `ok SENT DROPPED`: COUNT entries logged at info by PROCESSES
      processes at once, and how many of them the journal handler counted as dropped
    * `journal KEY VALUE` → `ok` once the journal handler's configuration has KEY (e.g.
      `burst_limit_enable`, `drop_report_interval`) set to VALUE (`true`, `false` or an integer)
    * `handlers` → `ok ID...`, the logger handlers installed
    * `watchdog_summary` → `ok` once vigil's watchdog has written its summary entry
    * `listen_fds` → `ok NAME BACKLOG ...`, the sockets systemd passed and their accept queues
    * `cookie` → `ok credential` when the node's cookie is the file `$HOME/.erlang.cookie` (the
      unit's credential), `error placeholder` when it is the unit's placeholder, `error other`
      (the cookie itself is never printed)
    * `ping NODE` → `ok pong` or `ok pang` (`net_adm:ping/1`)
    * `nodes` → `ok NODE...`, the connected nodes
    * `global_register NAME` → `ok yes` once a process of this node holds NAME in `:global`
    * `global_whereis NAME` → `ok NODE`, where the process `:global` knows as NAME runs, or
      `error undefined`
  """

  require Logger

  @doc "Runs one probe command (the line after `probe `)."
  @spec run(String.t()) :: String.t()
  def run(line) do
    case String.split(line, " ", parts: 2) do
      ["read", path] -> read(path)
      ["write", path] -> result(File.write(path, "probe\n"))
      ["bind", port] -> bind(String.to_integer(port))
      ["connect", rest] -> connect(String.split(rest, " "))
      ["env", name] -> env(System.get_env(name))
      ["id"] -> id()
      ["flavor"] -> "ok #{:erlang.system_info(:emu_flavor)}"
      ["grep", rest] -> grep(String.split(rest, " ", parts: 2))
      ["node"] -> "ok #{node()}"
      ["halt"] -> :erlang.halt(~c"halted by Shop.Probe")
      ["init", what] when what in ["restart", "reboot", "stop"] -> init(what)
      ["log", rest] -> log(String.split(rest, " ", parts: 3))
      ["log_big", rest] -> log_big(String.split(rest, " "))
      ["flood", rest] -> flood(String.split(rest, " "))
      ["journal", rest] -> journal(String.split(rest, " "))
      ["handlers"] -> "ok " <> Enum.join(:logger.get_handler_ids(), " ")
      ["watchdog_summary"] -> result(Vigil.watchdog_summary())
      ["listen_fds"] -> listen_fds(Vigil.listen_fds())
      ["cookie"] -> cookie()
      ["ping", node] -> "ok #{:net_adm.ping(String.to_atom(node))}"
      ["nodes"] -> Enum.join(["ok" | Enum.map(Node.list(), &to_string/1)], " ")
      ["global_register", name] -> global_register(String.to_atom(name))
      ["global_whereis", name] -> global_whereis(:global.whereis_name(String.to_atom(name)))
      _ -> "error badarg"
    end
  end

  defp read(path) do
    case File.ls(path) do
      {:ok, names} -> "ok #{length(names)}"
      {:error, :enotdir} -> with_size(File.read(path))
      {:error, reason} -> "error #{reason}"
    end
  end

  defp with_size({:ok, bytes}), do: "ok #{byte_size(bytes)}"
  defp with_size({:error, reason}), do: "error #{reason}"

  defp bind(port) do
    case :gen_tcp.listen(port, reuseaddr: true) do
      {:ok, socket} -> :gen_tcp.close(socket) && "ok"
      {:error, reason} -> "error #{reason}"
    end
  end

  defp connect([ip, port]) do
    {:ok, address} = :inet.parse_address(String.to_charlist(ip))

    case :gen_tcp.connect(address, String.to_integer(port), [], 2000) do
      {:ok, socket} -> :gen_tcp.close(socket) && "ok"
      {:error, reason} -> "error #{reason}"
    end
  end

  defp grep([path, text]) do
    case File.read(path) do
      {:ok, bytes} ->
        line = bytes |> String.split("\n") |> Enum.find(&String.contains?(&1, text))
        if line, do: "ok " <> line, else: "error nomatch"

      {:error, reason} ->
        "error #{reason}"
    end
  end

  # After the answer is on its way: the connection goes down with the applications.
  defp init(what) do
    fun = String.to_existing_atom(what)
    :timer.apply_after(100, :init, fun, [])
    "ok"
  end

  defp log([level, id, text]) do
    text = String.replace(text, "\\n", "\n")
    Logger.log(String.to_existing_atom(level), text, request_id: id)
    "ok"
  end

  defp log_big([id, bytes]) do
    size = String.to_integer(bytes)
    text = binary_part(:binary.copy("0123456789abcdef", div(size, 16) + 1), 0, size)
    Logger.info(text, request_id: id)
    "ok"
  end

  # What the journal handler dropped while the flood ran is the flood's: nothing else logs then.
  defp flood([id, count, processes]) do
    {count, processes} = {String.to_integer(count), String.to_integer(processes)}
    before = dropped()

    1..processes
    |> Enum.map(fn p -> Task.async(fn -> flood_part(id, p, div(count, processes)) end) end)
    |> Enum.each(&Task.await(&1, :infinity))

    "ok #{div(count, processes) * processes} #{dropped() - before}"
  end

  defp flood_part(id, p, n) do
    for i <- 1..n, do: Logger.info("flood #{id} #{p}.#{i}", flood: id)
  end

  defp dropped do
    {:ok, counts} = :vigil_journal_h.dropped(:journal)
    counts |> Map.values() |> Enum.sum()
  end

  defp journal([key, value]) do
    value =
      case value do
        "true" -> true
        "false" -> false
        digits -> String.to_integer(digits)
      end

    case :logger.update_handler_config(:journal, :config, %{String.to_existing_atom(key) => value}) do
      :ok -> "ok"
      {:error, reason} -> "error #{inspect(reason)}"
    end
  end

  defp listen_fds({:error, reason}), do: "error #{inspect(reason)}"

  defp listen_fds(fds) do
    Enum.join(["ok" | Enum.map(fds, &"#{&1.name} #{Map.get(&1, :backlog, "?")}")], " ")
  end

  defp cookie do
    file = Path.join(System.get_env("HOME", "/"), ".erlang.cookie")

    case {File.read(file), Node.get_cookie()} do
      {{:ok, text}, cookie} when cookie != :nocookie ->
        cond do
          Atom.to_string(cookie) == String.trim(text) -> "ok credential"
          Atom.to_string(cookie) == System.get_env("RELEASE_COOKIE") -> "error placeholder"
          true -> "error other"
        end

      {{:error, reason}, _} ->
        "error #{reason}"

      _ ->
        "error nocookie"
    end
  end

  # A process of its own holds the name: the connection's process ends with the request.
  defp global_register(name) do
    pid = spawn(fn -> Process.sleep(:infinity) end)
    "ok #{:global.register_name(name, pid)}"
  end

  defp global_whereis(:undefined), do: "error undefined"
  defp global_whereis(pid), do: "ok #{node(pid)}"

  defp env(nil), do: "error unset"
  defp env(value), do: "ok " <> value

  defp id do
    {:ok, status} = File.read("/proc/self/status")
    [uid] = Regex.run(~r/^Uid:\s+(\d+)/m, status, capture: :all_but_first)
    [gid] = Regex.run(~r/^Gid:\s+(\d+)/m, status, capture: :all_but_first)
    "ok #{uid} #{gid}"
  end

  defp result(:ok), do: "ok"
  defp result({:error, reason}), do: "error #{reason}"
end
