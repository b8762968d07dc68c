defmodule Mix.Tasks.Vigil.Migrate do
  @shortdoc "Turns the project's config :mix_systemd into vigil's unit settings"
  @moduledoc """
  Reads the project's `config :mix_systemd` block and prints the equivalent settings for
  `mix vigil.gen.unit`, as a `config/vigil_unit.exs` file, followed by what each
  mix_systemd key became, what has no equivalent, and what behaves differently under vigil
  (Type=notify, strict hardening, UMask 0077, dirs, restart policy, stop).

      mix vigil.migrate            # print
      mix vigil.migrate --write    # also write config/vigil_unit.exs (never overwrites)

  The settings keep mix_systemd's output layout (`layout: :mix_systemd`): units in
  `_build/<env>/systemd/lib/systemd/system/`, and mix_deploy's runtime environment file in
  `/run/<service>/environment`. Remove `config :mix_systemd` once the units are checked.
  """
  use Mix.Task

  @target "config/vigil_unit.exs"

  @impl Mix.Task
  def run(args) do
    {opts, _} = OptionParser.parse!(args, strict: [write: :boolean])
    Mix.Task.run("loadconfig")
    config = Application.get_all_env(:mix_systemd)

    if config == [] do
      Mix.shell().info("vigil: no config :mix_systemd found; mix_systemd's defaults assumed")
    end

    {settings, report} = migrate(config, Mix.Project.config())
    text = config_file(settings)
    Mix.shell().info(text)
    Mix.shell().info(report_text(report))
    if opts[:write], do: write(text)
  end

  defp write(text) do
    if File.exists?(@target) do
      Mix.raise("vigil: #{@target} exists; not overwritten")
    else
      File.write!(@target, text)
      Mix.shell().info("vigil: wrote #{@target}")
    end
  end

  @doc "The text of config/vigil_unit.exs for `settings`."
  @spec config_file(keyword()) :: String.t()
  def config_file(settings) do
    body =
      Enum.map_join(settings, ",\n", fn {k, v} ->
        "  #{k}: #{inspect(v, limit: :infinity, printable_limit: :infinity)}"
      end)

    """
    # Settings of mix vigil.gen.unit, migrated from config :mix_systemd. Not part of any
    # release: keep secrets in credentials, not here.
    import Config

    config :vigil, :unit,
    #{body}
    """
  end

  @doc "The report as text: each key's fate, then the changes in behaviour."
  @spec report_text(map()) :: String.t()
  def report_text(%{keys: keys, changes: changes}) do
    lines = Enum.map(keys, fn {key, what} -> "  #{key}: #{what}" end)
    changed = Enum.map(changes, &("  - " <> &1))

    Enum.join(
      ["What each mix_systemd key became:" | if(lines == [], do: ["  (none set)"], else: lines)] ++
        ["", "What behaves differently under vigil:" | changed],
      "\n"
    )
  end

  # Keys carried over unchanged, by the same name.
  @same [
    :app_name,
    :release_name,
    :ext_name,
    :service_name,
    :app_user,
    :app_group,
    :base_dir,
    :deploy_dir,
    :current_dir,
    :working_dir,
    :syslog_identifier,
    :systemd_version,
    :limit_nofile,
    :timeout_start_sec,
    :umask,
    :runtime_directory_preserve,
    :restart,
    :start_command
  ]

  # Keys whose values are paths or commands, with mix_systemd's list-of-parts form.
  @expanded [
    :env_files,
    :env_vars,
    :exec_start_pre,
    :read_write_paths,
    :read_only_paths,
    :inaccessible_paths
  ]

  @dir_kinds [:runtime, :configuration, :state, :cache, :logs, :tmp]

  @bases %{
    runtime: "/run",
    configuration: "/etc",
    state: "/var/lib",
    cache: "/var/cache",
    logs: "/var/log",
    tmp: "/var/tmp"
  }

  # Derived by mix_systemd or meaningless for the unit: no report line when left at default.
  @ignored [:module_name, :version, :build_path, :mix_env, :expand_keys, :expand_keys_extra]

  @doc """
  Translates mix_systemd settings into vigil's. Returns the settings and a report:
  `%{keys: [{key, text}], changes: [text]}`.
  """
  @spec migrate(keyword(), keyword()) :: {keyword(), map()}
  def migrate(ms, project) do
    ctx = context(ms, project)

    {settings, lines} =
      Enum.reduce(ms, {[layout: :mix_systemd], []}, fn {key, value}, {acc, lines} ->
        {add, text} = key(key, value, ctx)
        {acc ++ add, if(text, do: lines ++ [{key, text}], else: lines)}
      end)

    {settings, lines} = keep_environment_file(settings, lines)
    {merge_lists(settings), %{keys: lines, changes: changes(ms)}}
  end

  # With the runtime environment file in the runtime dir, the dir must survive a stop.
  defp keep_environment_file(settings, lines) do
    preserve = settings[:runtime_directory_preserve]

    if settings[:runtime_environment_service_script] && preserve not in [nil, "yes"] do
      text =
        "#{inspect(preserve)} → \"yes\": the runtime environment file lives in the " <>
          "runtime dir, which a stop would otherwise remove"

      {Keyword.put(settings, :runtime_directory_preserve, "yes"),
       List.keyreplace(lines, :runtime_directory_preserve, 0, {:runtime_directory_preserve, text})}
    else
      {settings, lines}
    end
  end

  # Several mix_systemd keys can add to one vigil list (env_lang and env_vars to env_vars).
  defp merge_lists(settings) do
    Enum.reduce(settings, [], fn {k, v}, acc ->
      case {Keyword.fetch(acc, k), v} do
        {{:ok, old}, new} when is_list(old) and is_list(new) ->
          List.keyreplace(acc, k, 0, {k, old ++ new})

        _ ->
          acc ++ [{k, v}]
      end
    end)
  end

  defp context(ms, project) do
    app = to_string(ms[:app_name] || project[:app] || "app")
    ext = to_string(ms[:ext_name] || String.replace(app, "_", "-"))
    svc = to_string(ms[:service_name] || ext)
    dirs = Enum.map(Keyword.get(ms, :dirs, []), &to_dir_kind/1)
    # vigil creates runtime and configuration unless dirs is given.
    dirs = if Keyword.has_key?(ms, :dirs), do: dirs, else: [:runtime, :configuration]
    %{ms: ms, ext: ext, svc: svc, dirs: dirs}
  end

  defp to_dir_kind(d) when is_atom(d), do: d

  defp to_dir_kind(d) when is_binary(d) do
    String.to_existing_atom(d)
  rescue
    ArgumentError -> d
  end

  defp to_dir_kind(d), do: d

  # One key: {vigil settings, report text or nil}.
  defp key(k, v, _ctx) when k in @same and v != nil, do: {[{k, plain(v)}], "same (#{k})"}
  defp key(k, nil, _ctx) when k in @same, do: {[], "nil: left to vigil's default"}
  defp key(k, v, ctx) when k in @expanded, do: expanded(k, v, ctx)
  defp key(k, _v, _ctx) when k in @ignored, do: {[], ignored(k)}

  # mix_systemd's dirs is the whole list; vigil's adds to runtime and configuration, and
  # -KIND removes one of those.
  defp key(:dirs, v, _ctx) do
    {ok, bad} = Enum.split_with(v, &(to_dir_kind(&1) in @dir_kinds))
    ok = Enum.map(ok, &to_dir_kind/1)
    removed = for d <- [:runtime, :configuration], d not in ok, do: "-#{d}"

    text =
      "same (dirs)" <>
        if(removed == [], do: "", else: "; vigil's defaults not listed are removed") <>
        if(bad == [], do: "", else: "; not dir kinds, left out: #{inspect(bad)}")

    {[dirs: Enum.map(ok, &to_string/1) ++ removed], text}
  end

  defp key(:restart_sec, nil, _ctx), do: {[], "nil (100ms): vigil waits 5 s; set restart_sec"}

  defp key(:restart_sec, v, _ctx) when is_integer(v),
    do: {[restart_sec: v], "same (restart_sec)"}

  defp key(:restart_sec, v, _ctx),
    do:
      {[override: ["Service.RestartSec=#{v}"]],
       "override Service.RestartSec= (not whole seconds)"}

  defp key(:restart_method, v, _ctx) when v in [:systemctl, :systemd_flag, :touch],
    do: {[restart_method: v], restart_method_text(v)}

  defp key(:service_type, :simple, _ctx),
    do:
      {[],
       "simple → notify (vigil's default, see below); service_type: \"exec\" keeps a plain process"}

  defp key(:service_type, t, _ctx) when t in [:exec, :notify],
    do: {[service_type: t], "same (service_type)"}

  defp key(:service_type, t, _ctx),
    do:
      {[], "#{inspect(t)}: no equivalent (forking daemons cannot notify); vigil uses Type=notify"}

  defp key(:release_system, :mix, _ctx), do: {[release_tool: :mix], "release_tool: :mix"}

  defp key(:release_system, :distillery, _ctx),
    do:
      {[release_tool: :relx],
       "release_tool: :relx (Distillery's scripts start with foreground too)"}

  defp key(:paranoia, true, _ctx),
    do: {[hardening: :strict], "hardening: :strict (a superset of paranoia's directives)"}

  defp key(:paranoia, _, _ctx),
    do: {[], "false: vigil hardens by default (hardening: :strict); :off turns it off"}

  defp key(:chroot, true, _ctx) do
    {[chroot: true],
     "chroot: true, another meaning: an empty read-only root with system libraries and the " <>
       "deploy dir bound in (mix_systemd: RootDirectory=current_dir)"}
  end

  defp key(:chroot, _, _ctx), do: {[], "false: same as vigil's default"}

  defp key(:unit_after_targets, v, _ctx),
    do: {[unit_after: Enum.map(v, &to_string/1)], "unit_after"}

  defp key(:runtime_environment_service_script, nil, _ctx), do: {[], "unset: nothing to migrate"}

  defp key(:runtime_environment_service_script, v, ctx) do
    script = parts(v, ctx)

    script =
      if String.starts_with?(script, "/") or String.starts_with?(script, "@{"),
        do: script,
        else: scripts_dir(ctx) <> "/" <> script

    {[runtime_environment_service_script: script],
     "runtime_environment_service_script (the service is implied; its file is " <>
       "/run/#{ctx.svc}/environment with layout: :mix_systemd, as mix_deploy writes it)"}
  end

  defp key(:env_lang, v, _ctx) when v in [nil, ""], do: {[], "unset: vigil sets LANG=C.UTF-8"}
  defp key(:env_lang, v, _ctx), do: {[env_vars: ["LANG=#{v}"]], "env_vars LANG=#{v}"}

  defp key(:limit_core, nil, _ctx), do: {[], "unset: nothing to migrate"}

  defp key(:limit_core, v, _ctx),
    do: {[override: ["Service.LimitCORE=#{v}"]], "override Service.LimitCORE= (vigil: 0)"}

  defp key(:exec_start, v, _ctx) when v in [nil, ""], do: {[], "unset: nothing to migrate"}

  defp key(:exec_start, v, ctx) do
    {[override: ["Service.ExecStart=#{parts(v, ctx)}"]],
     "override Service.ExecStart= (replaces vigil's start command)"}
  end

  defp key(:exec_stop, v, _ctx) when v in [nil, ""], do: {[], "unset: nothing to migrate"}

  defp key(:exec_stop, _v, _ctx) do
    {[],
     "no equivalent: vigil stops the BEAM with SIGTERM; `override: [\"Service.ExecStop=...\"]` " <>
       "if you must"}
  end

  defp key(:runtime_environment_unit_after_targets, [], _ctx),
    do: {[], "unset: nothing to migrate"}

  defp key(:runtime_environment_unit_after_targets, _, _ctx),
    do: {[], "no equivalent: the runtime environment unit orders only before the service"}

  defp key(:output_dir, _, _ctx),
    do: {[], "no equivalent: layout: :mix_systemd writes _build/<env>/systemd/lib/systemd/system"}

  defp key(:template_dir, _, _ctx),
    do: {[], "no equivalent: vigil's templates differ (mix vigil.gen.templates)"}

  defp key(k, v, _ctx) when k in [:release_tmp, :release_mutable_dir] and v != nil do
    var = k |> Atom.to_string() |> String.upcase()
    {[env_vars: ["#{var}=#{v}"]], "env_vars #{var}=..."}
  end

  defp key(k, v, ctx) do
    name = Atom.to_string(k)

    if String.ends_with?(name, "_directory_mode") and k != :tmp_directory_mode and v != nil do
      mode = v |> to_string() |> String.pad_leading(4, "0")
      {[{k, mode}], "same (#{k}), as #{inspect(mode)}"}
    else
      {[], dir_setting(k, v, ctx) || "no equivalent (#{inspect(v)} is left out)"}
    end
  end

  # *_directory, *_directory_base, *_directory_mode, *_dir and the deploy sub-dirs.
  defp dir_setting(k, v, ctx) do
    name = Atom.to_string(k)

    cond do
      k == :tmp_directory_mode ->
        "no equivalent: vigil's tmp is /var/tmp"

      String.ends_with?(name, "_directory") ->
        if to_string(v) == ctx.svc, do: "same as vigil (the service name)", else: nil

      String.ends_with?(name, "_directory_base") ->
        kind = name |> String.trim_trailing("_directory_base") |> String.to_atom()
        if to_string(v) == @bases[kind], do: "same as vigil", else: nil

      k in [:scripts_dir, :flags_dir, :releases_dir, :pid_file, :root_directory] or
          String.ends_with?(name, "_dir") ->
        "not a vigil key; references to it are written out"

      true ->
        nil
    end
  end

  defp restart_method_text(:touch),
    do: "same (restart_method); the flag is now in the runtime dir, which the service can write"

  defp restart_method_text(_), do: "same (restart_method)"

  defp ignored(:mix_env), do: "not set by vigil (MIX_ENV means nothing to a release)"

  defp ignored(:expand_keys),
    do: "no equivalent needed: every path and command key expands @{key}"

  defp ignored(:expand_keys_extra), do: ignored(:expand_keys)
  defp ignored(k), do: "derived by vigil (#{k})"

  defp expanded(k, v, ctx) when is_list(v) do
    {values, unknown} =
      Enum.map_reduce(v, [], fn item, acc ->
        {text, missing} = parts_checked(item, ctx)
        {text, acc ++ missing}
      end)

    text =
      if unknown == [],
        do: "same (#{k})",
        else: "same (#{k}); written out: #{Enum.map_join(Enum.uniq(unknown), ", ", &inspect/1)}"

    {[{k, values}], text}
  end

  defp expanded(k, v, ctx), do: expanded(k, [v], ctx)

  defp parts(v, ctx), do: elem(parts_checked(v, ctx), 0)

  # mix_systemd's list of terms: strings as they are (a literal `@{` doubled), atoms looked up.
  defp parts_checked(v, ctx) when is_list(v) do
    {texts, missing} = Enum.map_reduce(v, [], fn p, acc -> part(p, ctx, acc) end)
    {Enum.join(texts), missing}
  end

  defp parts_checked(v, ctx), do: parts_checked([v], ctx)

  @names [
    :deploy_dir,
    :current_dir,
    :working_dir,
    :base_dir,
    :app_name,
    :release_name,
    :service_name,
    :ext_name
  ]

  defp part(p, _ctx, acc) when is_binary(p), do: {String.replace(p, "@{", "@@{"), acc}
  defp part(nil, _ctx, acc), do: {"", acc}
  defp part(p, _ctx, acc) when p in @names, do: {"@{#{p}}", acc}
  defp part(:scripts_dir, ctx, acc), do: {scripts_dir(ctx), acc}
  defp part(:flags_dir, _ctx, acc), do: {"@{deploy_dir}/flags", acc}
  defp part(:releases_dir, _ctx, acc), do: {"@{deploy_dir}/releases", acc}

  defp part(p, ctx, acc) when is_atom(p) do
    name = Atom.to_string(p)
    kind = name |> String.trim_trailing("_dir") |> String.to_atom()

    cond do
      String.ends_with?(name, "_dir") and kind in ctx.dirs ->
        {"@{#{p}}", acc}

      String.ends_with?(name, "_dir") and Map.has_key?(@bases, kind) ->
        {dir_path(kind, ctx), acc ++ [p]}

      Keyword.has_key?(ctx.ms, p) ->
        {parts(ctx.ms[p], ctx), acc ++ [p]}

      true ->
        {name, acc ++ [p]}
    end
  end

  defp part(p, _ctx, acc), do: {to_string(p), acc}

  # A dir not in dirs: mix_systemd's path, written out (vigil refers only to listed dirs).
  defp dir_path(kind, ctx) do
    base = ctx.ms[:"#{kind}_directory_base"] || @bases[kind]

    if kind == :tmp,
      do: base <> "/" <> ctx.svc,
      else: base <> "/" <> to_string(ctx.ms[:"#{kind}_directory"] || ctx.svc)
  end

  defp scripts_dir(ctx) do
    case ctx.ms[:scripts_dir] do
      nil -> "@{deploy_dir}/bin"
      dir -> to_string(dir)
    end
  end

  defp plain(v) when is_atom(v) and v not in [nil, true, false], do: Atom.to_string(v)
  defp plain(v), do: v

  # What behaves differently, whatever the keys: mix_systemd's defaults against vigil's.
  defp changes(ms) do
    [
      {:service_type,
       "Type=notify (mix_systemd: simple): the release must include the :vigil application, " <>
         "which sends READY=1 and the watchdog pings (WatchdogSec=30); service_type: \"exec\" " <>
         "keeps a plain process"},
      {:paranoia,
       "strict hardening by default: ProtectSystem=strict, PrivateUsers, a system call filter " <>
         "and more (expected systemd-analyze security exposure 1.1); the release can write " <>
         "only its dirs and read_write_paths"},
      {:umask,
       "UMask=0077 (mix_systemd: 0027): files the release creates are private to its user; " <>
         "umask: \"0027\" keeps group read"},
      {:dirs,
       "dirs: vigil creates runtime and configuration unless dirs is given (mix_systemd: " <>
         "none), with mode 0750, and sets RUNTIME_DIR, CONFIGURATION_DIR and RELEASE_TMP"},
      {:restart,
       "Restart=on-failure, RestartSec=5, at most 5 starts in 60 s (mix_systemd: " <>
         "Restart=always, RestartSec 100ms)"},
      {:exec_stop,
       "stop: SIGTERM to the BEAM (KillMode=mixed) within shutdown_time + 5 s; no ExecStop= " <>
         "(mix_systemd ran bin/<release> stop, which needs distribution)"},
      {:env_lang, "LANG=C.UTF-8 (mix_systemd: en_US.utf8); MIX_ENV is not set"},
      {:systemd_version,
       "systemd_version: 252 (Debian 12) unless given (mix_systemd: 235); directives the " <>
         "target lacks are dropped and listed in the manifest"},
      {:limit_nofile, "LimitNOFILE=65536 (mix_systemd: 65535)"},
      {:app_user,
       "the user is created by sysusers.d (lib/sysusers.d/<service>.conf), the deploy dir " <>
         "by tmpfiles.d; install both with the units"}
    ]
    |> Enum.reject(fn {k, _} ->
      Keyword.has_key?(ms, k) and k not in [:service_type, :paranoia]
    end)
    |> Enum.map(&elem(&1, 1))
  end
end
