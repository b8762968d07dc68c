defmodule Mix.Tasks.Vigil.Gen.Unit do
  @shortdoc "Generates the systemd unit and companion files for the release"
  @moduledoc """
  Generates a hardened `Type=notify` systemd service for the release, plus its companion
  files (sysusers.d, tmpfiles.d, restart units, manifest), into `_build/<env>/systemd/`.

  Settings come from `config :vigil, :unit, [...]`, with keys named as `vigil-unit --help`
  lists them (`app_user: "web"`, `env_vars: ["PORT=4000"]`, `hardening: :strict`). The app
  name, version and release name default from the mix project (`default_release` in an
  umbrella). Any argument given to the task is passed on to `vigil-unit`.
  """
  use Mix.Task

  @impl Mix.Task
  def run(args) do
    Mix.Task.run("loadconfig")
    default_out = Path.join([Mix.Project.build_path(), "systemd"])
    config = Application.get_env(:vigil, :unit, [])
    argv = unit_args(Mix.Project.config(), config) ++ ["--output", default_out] ++ args

    case System.cmd(generator(), argv, stderr_to_stdout: true) do
      {output, 0} ->
        IO.write(output)
        report(written_to(args, default_out))

      {output, status} ->
        Mix.raise("vigil-unit failed (#{status}): #{output}")
    end
  end

  defp report(nil), do: :ok
  defp report(out), do: Mix.shell().info("vigil: wrote #{out}")

  # Where the generator wrote: the last --output given on the command line wins over the
  # default, and --print writes nothing.
  @doc false
  @spec written_to([String.t()], String.t()) :: String.t() | nil
  def written_to(args, default) do
    if "--print" in args, do: nil, else: last_output(args, default)
  end

  defp last_output(["--output", dir | rest], _), do: last_output(rest, dir)
  defp last_output(["--output=" <> dir | rest], _), do: last_output(rest, dir)
  defp last_output([_ | rest], dir), do: last_output(rest, dir)
  defp last_output([], dir), do: dir

  @doc false
  @spec unit_args(keyword(), keyword()) :: [String.t()]
  def unit_args(project, config) do
    defaults = [
      app_name: project_app(project),
      version: project[:version],
      release_name: release_name(project)
    ]

    defaults
    |> Enum.reject(fn {k, v} -> v == nil or Keyword.has_key?(config, k) end)
    |> Kernel.++(config)
    |> Enum.flat_map(&to_args/1)
  end

  defp project_app(project), do: project[:app] && Atom.to_string(project[:app])

  defp release_name(project) do
    case project[:default_release] || single_release(project[:releases]) do
      nil -> nil
      name -> to_string(name)
    end
  end

  defp single_release([{name, _}]), do: name
  defp single_release(_), do: nil

  defp to_args({key, values}) when is_list(values) and not is_binary(values) do
    flag = flag(key)
    if values == [], do: [flag, ""], else: Enum.flat_map(values, &[flag, value(&1)])
  end

  defp to_args({key, value}), do: [flag(key), value(value)]

  defp flag(key), do: "--" <> String.replace(Atom.to_string(key), "_", "-")

  defp value(true), do: "yes"
  defp value(false), do: "no"
  defp value(v) when is_atom(v), do: Atom.to_string(v)
  defp value(v), do: to_string(v)

  @doc false
  @spec generator() :: String.t()
  def generator do
    System.get_env("VIGIL_UNIT") || Path.join(:code.priv_dir(:vigil), "vigil-unit")
  end
end
