defmodule Mix.Tasks.Vigil.MigrateTest do
  use ExUnit.Case, async: false

  alias Mix.Tasks.Vigil.{Gen.Unit, Migrate}

  @bin Path.expand("../../priv/vigil-unit", __DIR__)
  @check Path.expand("../gen/migrate_check.py", __DIR__)
  @project [app: :foo, version: "0.1.0"]

  # Configurations as mix_systemd's README and repository show them.
  @docs %{
    default: [],
    paranoia: [paranoia: true],
    # README, "Environment vars" and "Runtime dirs": list-of-parts values.
    env_lists: [
      exec_start_pre: [["!", :deploy_dir, "/bin/deploy-sync-config-s3"]],
      dirs: [:configuration, :runtime],
      env_files: [["-", :deploy_dir, "/etc/environment"]],
      env_vars: ["PORT=8080", ["RELEASE_TMP=", :runtime_dir]]
    ],
    # README, configuration example, and env_files read from the configuration dir.
    config_dir: [
      app_user: "app",
      app_group: "app",
      base_dir: "/opt",
      dirs: [:configuration],
      env_files: [["-", :configuration_dir, "/environment"]],
      env_vars: ["PORT=8080"]
    ],
    # README, restart_method and the runtime environment service of mix_deploy.
    restart_flag: [
      restart_method: :systemd_flag,
      runtime_environment_service_script: "deploy-runtime-environment-file",
      dirs: [:runtime, :configuration],
      runtime_directory_preserve: "yes"
    ],
    # config/dev.exs of mix_systemd, and the defaults it lists spelt out.
    spelt_out: [
      service_type: :simple,
      release_system: :mix,
      restart: "always",
      restart_sec: 1,
      umask: "0027",
      limit_nofile: 65535,
      env_lang: "en_US.utf8",
      systemd_version: 235,
      configuration_directory_mode: "750",
      runtime_directory_mode: "750",
      unit_after_targets: ["cloud-init.target"],
      exec_stop: nil,
      mix_env: :prod
    ]
  }

  setup_all do
    System.put_env("VIGIL_UNIT", @bin)
    kinds = Unit.key_kinds()
    System.delete_env("VIGIL_UNIT")
    {:ok, kinds: kinds}
  end

  for {name, _} <- @docs do
    @tag :tmp_dir
    test "mix_systemd's #{name} configuration migrates to units systemd accepts", ctx do
      ms = @docs[unquote(name)]
      {settings, report} = Migrate.migrate(ms, @project)
      assert settings[:layout] == :mix_systemd
      # Every key the configuration sets has a line in the report.
      assert Enum.map(report.keys, &elem(&1, 0)) == Keyword.keys(ms)
      assert Enum.any?(report.changes, &(&1 =~ "Type=notify"))

      # The printed file is valid Elixir config that reads back as the settings.
      path = Path.join(ctx.tmp_dir, "vigil_unit.exs")
      File.write!(path, Migrate.config_file(settings))
      assert Config.Reader.read!(path) == [vigil: [unit: settings]]

      out = Path.join(ctx.tmp_dir, "out")
      argv = Unit.unit_args(@project, settings, ctx.kinds) ++ ["--output", out]
      assert {_, 0} = System.cmd(@bin, argv, stderr_to_stdout: true)
      assert File.exists?(Path.join(out, "lib/systemd/system/foo.service"))
      want = for "PORT=" <> _ = v <- List.wrap(settings[:env_vars]), do: v
      {output, status} = System.cmd("python3", [@check, out | want], stderr_to_stdout: true)
      assert status == 0, output
    end
  end

  test "list forms become @{key} references; dirs not listed are written out" do
    {settings, report} = Migrate.migrate(@docs.env_lists, @project)
    assert settings[:exec_start_pre] == ["!@{deploy_dir}/bin/deploy-sync-config-s3"]
    assert settings[:env_files] == ["-@{deploy_dir}/etc/environment"]
    assert settings[:env_vars] == ["PORT=8080", "RELEASE_TMP=@{runtime_dir}"]
    assert settings[:dirs] == ["configuration", "runtime"]
    {settings, _} = Migrate.migrate(@docs.config_dir, @project)
    assert settings[:dirs] == ["configuration", "-runtime"]

    assert {:env_vars, "same (env_vars)"} in report.keys

    {settings, report} = Migrate.migrate([env_files: [["-", :state_dir, "/env"]]], @project)
    assert settings[:env_files] == ["-/var/lib/foo/env"]
    assert {:env_files, "same (env_files); written out: :state_dir"} in report.keys
  end

  test "the runtime environment script runs from the deploy dir's bin, as mix_systemd ran it" do
    {settings, report} = Migrate.migrate(@docs.restart_flag, @project)

    assert settings[:runtime_environment_service_script] ==
             "@{deploy_dir}/bin/deploy-runtime-environment-file"

    assert settings[:restart_method] == :systemd_flag
    {_, text} = List.keyfind(report.keys, :runtime_environment_service_script, 0)
    assert text =~ "/run/foo/environment"
  end

  test "keys without an equivalent say so, and changed defaults are listed" do
    {settings, report} =
      Migrate.migrate(
        [exec_stop: "/bin/stop", service_type: :forking, limit_core: "infinity", paranoia: false],
        @project
      )

    assert settings[:override] == ["Service.LimitCORE=infinity"]
    text = Migrate.report_text(report)
    assert text =~ "exec_stop: no equivalent"
    assert text =~ "service_type: :forking: no equivalent"
    assert text =~ "paranoia: false: vigil hardens by default"
    assert text =~ "UMask=0077"
    assert text =~ "Restart=on-failure"

    {_, report} = Migrate.migrate([umask: "0027", restart: "always"], @project)
    refute Migrate.report_text(report) =~ "UMask=0077"
  end

  test "the runtime dir is kept when it holds the runtime environment file" do
    ms = [runtime_environment_service_script: "/bin/env.sh", runtime_directory_preserve: "no"]
    {settings, report} = Migrate.migrate(ms, @project)
    assert settings[:runtime_directory_preserve] == "yes"
    {_, text} = List.keyfind(report.keys, :runtime_directory_preserve, 0)
    assert text =~ "a stop would otherwise remove"
  end

  test "env_lang and env_vars merge into one env_vars list" do
    {settings, _} = Migrate.migrate([env_lang: "en_US.utf8", env_vars: ["A=1"]], @project)
    assert settings[:env_vars] == ["LANG=en_US.utf8", "A=1"]
    assert Keyword.get_values(settings, :env_vars) |> length() == 1
  end
end
