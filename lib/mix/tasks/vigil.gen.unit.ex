defmodule Mix.Tasks.Vigil.Gen.Unit do
  @shortdoc "Generates the systemd unit and companion files for the release"
  @moduledoc """
  Generates a hardened `Type=notify` systemd service for the release, plus its companion
  files (sysusers.d, tmpfiles.d, restart units, manifest), into `_build/<env>/systemd/`.

  Settings come from `config/vigil_unit.exs`, a config file of its own that `mix release`
  does not copy into the release:

      # config/vigil_unit.exs
      import Config

      config :vigil, :unit,
        app_user: "web",
        env_vars: ["PORT=4000"],
        env_files: [["-", :configuration_dir, "/environment"]],
        hardening: :strict

  Keys are named as `vigil-unit --help` lists them. `config :vigil, :unit` in
  `config/config.exs` is still read when there is no `config/vigil_unit.exs`, with a warning:
  everything in the application environment is copied into every release's `sys.config`.

  Values: strings, atoms (`:strict`), numbers and booleans; a list key takes a list. A value
  written as a list or tuple of parts, as mix_systemd takes it, is joined into one value
  with atoms as `@{key}` references: `["-", :configuration_dir, "/environment"]` becomes
  `-@{configuration_dir}/environment`, `{"RELEASE_TMP=", :runtime_dir}` becomes
  `RELEASE_TMP=@{runtime_dir}`. A key set to `nil` is left unset.

  With `runtime_environment_service` on, the release must ship the script the unit runs,
  `bin/runtime-environment` unless `runtime_environment_service_script` names another:
  `mix release` does not create it, so the task refuses unless `rel/overlays/bin/` (or the
  release's own overlays) or the built release has it.

  Coming from mix_systemd: `mix vigil.migrate` prints the `config/vigil_unit.exs` that
  matches the project's `config :mix_systemd`, and what changes.

  The app name, version and release name default from the mix project (`default_release` in
  an umbrella). Any argument given to the task is passed on to `vigil-unit` and wins over the
  configuration; a list key given there replaces the configured list.
  """
  use Mix.Task

  @config_file "config/vigil_unit.exs"

  @impl Mix.Task
  def run(args) do
    Mix.Task.run("loadconfig")
    default_out = Path.join([Mix.Project.build_path(), "systemd"])
    config = config(@config_file)
    config = without_keys(config, arg_keys(args))

    argv =
      unit_args(Mix.Project.config(), config, key_kinds()) ++ ["--output", default_out] ++ args

    check_runtime_environment!(argv, release_dirs(Mix.Project.config(), argv))

    case System.cmd(generator(), argv, stderr_to_stdout: true) do
      {output, 0} ->
        IO.write(output)
        report(written_to(args, default_out))

      {output, status} ->
        Mix.raise("vigil-unit failed (#{status}): #{output}")
    end
  end

  # The settings: config/vigil_unit.exs, else the application environment (with a warning).
  @doc false
  @spec config(Path.t()) :: keyword()
  def config(path) do
    app_env = Application.get_env(:vigil, :unit)

    cond do
      File.exists?(path) ->
        if app_env != nil do
          Mix.shell().error(
            "vigil: config :vigil, :unit in the application environment is ignored " <>
              "(#{path} is read) and still ships in every release's sys.config; remove it"
          )
        end

        path
        |> Config.Reader.read!(env: Mix.env(), target: Mix.target())
        |> Keyword.get(:vigil, [])
        |> Keyword.get(:unit, [])
        |> keyword!(path)

      app_env != nil ->
        Mix.shell().error(
          "vigil: config :vigil, :unit is copied into every release's sys.config, secrets " <>
            "included; move it to #{path} (same syntax), which releases do not ship"
        )

        keyword!(app_env, "config :vigil, :unit")

      true ->
        []
    end
  end

  defp keyword!(config, where) do
    if Keyword.keyword?(config) do
      config
    else
      Mix.raise("vigil: #{where} is not a keyword list of settings: #{inspect(config)}")
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

  # Keys the task's arguments set (`--env-vars X` or `--env-vars=X`), as config keys.
  @doc false
  @spec arg_keys([String.t()]) :: [atom()]
  def arg_keys(args) do
    for "--" <> flag <- args, flag != "" do
      flag |> String.split("=", parts: 2) |> hd() |> String.replace("-", "_")
    end
    |> Enum.uniq()
    |> Enum.flat_map(fn k ->
      try do
        [String.to_existing_atom(k)]
      rescue
        ArgumentError -> []
      end
    end)
  end

  # The command line wins: a key given there, a list key too, drops the configured value.
  @doc false
  @spec without_keys(keyword(), [atom()]) :: keyword()
  def without_keys(config, keys), do: Enum.reject(config, fn {k, _} -> k in keys end)

  @doc false
  @spec unit_args(keyword(), keyword(), %{optional(String.t()) => String.t()}) :: [String.t()]
  def unit_args(project, config, kinds) do
    config = keyword!(config, "config :vigil, :unit")

    defaults = [
      app_name: project_app(project),
      version: project[:version],
      release_name: release_name(project)
    ]

    defaults
    |> Enum.reject(fn {k, v} -> v == nil or Keyword.has_key?(config, k) end)
    |> Kernel.++(config)
    |> Enum.reject(fn {_, v} -> v == nil end)
    |> Enum.flat_map(&to_args(&1, kinds))
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

  defp to_args({key, value}, kinds) do
    name = Atom.to_string(key)
    flag = "--" <> String.replace(name, "_", "-")

    case {Map.get(kinds, name), value} do
      {"list", []} -> [flag, ""]
      {"list", values} when is_list(values) -> Enum.flat_map(values, &[flag, item(key, &1)])
      {"list", value} -> [flag, item(key, value)]
      {_, value} -> [flag, item(key, value)]
    end
  end

  # One value: a scalar, or a list/tuple of parts joined with atoms as @{key} references.
  defp item(_key, true), do: "yes"
  defp item(_key, false), do: "no"
  defp item(_key, v) when is_binary(v), do: v
  defp item(_key, v) when is_atom(v) and v != nil, do: Atom.to_string(v)
  defp item(_key, v) when is_integer(v), do: Integer.to_string(v)
  defp item(key, v) when is_tuple(v), do: item(key, Tuple.to_list(v))
  defp item(key, [_ | _] = parts), do: Enum.map_join(parts, &part(key, &1, parts))
  defp item(key, v), do: bad(key, v)

  defp part(_key, p, _) when is_binary(p), do: p
  defp part(_key, p, _) when is_integer(p), do: Integer.to_string(p)
  defp part(_key, p, _) when is_atom(p) and p not in [nil, true, false], do: "@{#{p}}"
  defp part(key, _, whole), do: bad(key, whole)

  defp bad(key, v) do
    Mix.raise(
      "vigil: #{key}: #{inspect(v)} is not a value vigil-unit takes: give a string, atom, " <>
        "number or boolean, a list of them for a list key, or a list of string and atom " <>
        "parts such as [\"-\", :configuration_dir, \"/environment\"]"
    )
  end

  # runtime_environment_service runs the release's bin/runtime-environment, which `mix release`
  # does not create: refused here, before a unit that fails at boot (203/EXEC) is written,
  # unless the release overlays or the built release have it. A script given outside the
  # release (an absolute path) is the deployment's to provide.
  @doc false
  @spec check_runtime_environment!([String.t()], [Path.t()]) :: :ok
  def check_runtime_environment!(argv, dirs) do
    case runtime_environment_script(argv) do
      nil ->
        :ok

      rel ->
        paths = Enum.map(dirs, &Path.join(&1, rel))

        if Enum.any?(paths, &File.regular?/1) do
          :ok
        else
          Mix.raise(
            "vigil: runtime_environment_service: the release has no #{rel} (looked for " <>
              Enum.join(paths, ", ") <>
              "); mix release does not create one: add rel/overlays/#{rel} (executable), " <>
              "or set runtime_environment_service_script to a script the host provides"
          )
        end
    end
  end

  # The script's path inside the release when the service is on and the script is the
  # release's, else nil.
  defp runtime_environment_script(argv) do
    on = last_value(argv, "runtime-environment-service")
    script = last_value(argv, "runtime-environment-service-script")
    enabled = if on == nil, do: script != nil, else: on in ["yes", "true", "on", "1"]

    cond do
      not enabled ->
        nil

      script == nil ->
        "bin/runtime-environment"

      String.starts_with?(script, "@{current_dir}/") ->
        String.replace_prefix(script, "@{current_dir}/", "")

      true ->
        nil
    end
  end

  # The last value given for a key: `--key value`, `--key=value`, or a boolean `--key` alone.
  defp last_value(argv, key), do: last_value(argv, "--" <> key, nil)

  defp last_value([flag, "--" <> _ = next | rest], flag, _),
    do: last_value([next | rest], flag, "yes")

  defp last_value([flag, value | rest], flag, _), do: last_value(rest, flag, value)
  defp last_value([flag], flag, _), do: "yes"

  defp last_value([arg | rest], flag, acc) do
    case String.split(arg, "=", parts: 2) do
      [^flag, value] -> last_value(rest, flag, value)
      _ -> last_value(rest, flag, acc)
    end
  end

  defp last_value([], _flag, acc), do: acc

  # Where the release's files come from: its overlays (rel/overlays unless the release names
  # others) and the release as built.
  @doc false
  @spec release_dirs(keyword(), [String.t()]) :: [Path.t()]
  def release_dirs(project, argv) do
    name = last_value(argv, "release-name") || release_name(project) || project_app(project)

    opts =
      Enum.find_value(project[:releases] || [], [], fn {k, v} -> to_string(k) == name && v end)

    overlays = List.wrap(opts[:overlays] || "rel/overlays")
    overlays ++ [Path.join([Mix.Project.build_path(), "rel", to_string(name)])]
  end

  # Each key's kind, as the generator lists them.
  @doc false
  @spec key_kinds() :: %{optional(String.t()) => String.t()}
  def key_kinds do
    case System.cmd(generator(), ["--keys"], stderr_to_stdout: true) do
      {out, 0} ->
        for line <- String.split(out, "\n", trim: true), into: %{} do
          [k, kind] = String.split(line, "\t")
          {k, kind}
        end

      {out, status} ->
        Mix.raise("vigil-unit --keys failed (#{status}): #{out}")
    end
  end

  @doc false
  @spec generator() :: String.t()
  def generator do
    System.get_env("VIGIL_UNIT") || Path.join(:code.priv_dir(:vigil), "vigil-unit")
  end
end
