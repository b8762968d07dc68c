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
  """

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
