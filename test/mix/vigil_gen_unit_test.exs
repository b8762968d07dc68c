defmodule Mix.Tasks.Vigil.Gen.UnitTest do
  use ExUnit.Case, async: false

  alias Mix.Tasks.Vigil.Gen.Unit

  @bin Path.expand("../../priv/vigil-unit", __DIR__)

  setup_all do
    System.put_env("VIGIL_UNIT", @bin)
    kinds = Unit.key_kinds()
    System.delete_env("VIGIL_UNIT")
    {:ok, kinds: kinds}
  end

  test "project defaults become arguments and config wins", %{kinds: kinds} do
    args =
      Unit.unit_args(
        [app: :foo_bar, version: "1.2.3", default_release: :foo_rel],
        [hardening: :standard, env_vars: ["PORT=4000", "X=a b"], dynamic_user: true] ++
          [version: "9.9.9"],
        kinds
      )

    assert args == [
             "--app-name",
             "foo_bar",
             "--release-name",
             "foo_rel",
             "--hardening",
             "standard",
             "--env-vars",
             "PORT=4000",
             "--env-vars",
             "X=a b",
             "--dynamic-user",
             "yes",
             "--version",
             "9.9.9"
           ]
  end

  test "a single release names the release", %{kinds: kinds} do
    assert "--release-name" in Unit.unit_args([app: :a, releases: [web: []]], [], kinds)
    refute "--release-name" in Unit.unit_args([app: :a, releases: [x: [], y: []]], [], kinds)
  end

  test "mix_systemd's value forms become @{key} references", %{kinds: kinds} do
    args =
      Unit.unit_args(
        [app: :a],
        [
          env_files: [["-", :configuration_dir, "/environment"], "/etc/a/env"],
          env_vars: [{"RELEASE_TMP=", :runtime_dir}, ["PORT=", 4000], "X=1"],
          dirs: [:runtime, :configuration],
          runtime_environment_service_script: [:deploy_dir, "/bin/env"],
          exec_start_pre: [["!", :deploy_dir, "/bin/sync"]],
          description: nil,
          listen_ports: 443
        ],
        kinds
      )

    assert args == [
             "--app-name",
             "a",
             "--env-files",
             "-@{configuration_dir}/environment",
             "--env-files",
             "/etc/a/env",
             "--env-vars",
             "RELEASE_TMP=@{runtime_dir}",
             "--env-vars",
             "PORT=4000",
             "--env-vars",
             "X=1",
             "--dirs",
             "runtime",
             "--dirs",
             "configuration",
             "--runtime-environment-service-script",
             "@{deploy_dir}/bin/env",
             "--exec-start-pre",
             "!@{deploy_dir}/bin/sync",
             "--listen-ports",
             "443"
           ]
  end

  test "a value vigil-unit cannot take is a Mix error naming the key", %{kinds: kinds} do
    for {key, value} <- [
          env_vars: [%{"A" => "1"}],
          env_files: [["-", {:nested, :tuple}, "/x"]],
          description: %{},
          watchdog_sec: 1.5,
          dirs: [[]],
          exec_start_wrap: [self()],
          env_vars: [["A=", nil]]
        ] do
      assert_raise Mix.Error, ~r/^vigil: #{key}: /, fn ->
        Unit.unit_args([app: :a], [{key, value}], kinds)
      end
    end

    assert_raise Mix.Error, ~r/not a keyword list/, fn ->
      Unit.unit_args([app: :a], %{env_vars: []}, kinds)
    end
  end

  test "keys given to the task replace the configured ones, lists included" do
    assert Unit.arg_keys(["--env-vars", "A=1", "--output=/x", "--print", "--", "plain"]) ==
             [:env_vars, :output, :print]

    assert Unit.without_keys([env_vars: ["B=2"], hardening: :off], [:env_vars]) ==
             [hardening: :off]
  end

  @tag :tmp_dir
  test "config/vigil_unit.exs is read; the application environment warns", %{tmp_dir: tmp} do
    path = Path.join(tmp, "vigil_unit.exs")
    Mix.shell(Mix.Shell.Process)

    try do
      Application.put_env(:vigil, :unit, app_name: "from_env")
      assert Unit.config(path) == [app_name: "from_env"]
      assert_received {:mix_shell, :error, [msg]}
      assert msg =~ "copied into every release's sys.config"

      File.write!(path, """
      import Config
      config :vigil, :unit, app_name: "from_file", env_vars: ["A=\#{config_env()}"]
      """)

      assert Unit.config(path) == [app_name: "from_file", env_vars: ["A=test"]]
      assert_received {:mix_shell, :error, [msg]}
      assert msg =~ "is ignored"

      Application.delete_env(:vigil, :unit)
      assert Unit.config(path) == [app_name: "from_file", env_vars: ["A=test"]]
      refute_received {:mix_shell, :error, _}
    after
      Mix.shell(Mix.Shell.IO)
      Application.delete_env(:vigil, :unit)
    end
  end

  @tag :tmp_dir
  test "writes the unit with the project's version and the configured keys", %{tmp_dir: tmp} do
    System.put_env("VIGIL_UNIT", @bin)

    Application.put_env(:vigil, :unit,
      app_name: "demo_app",
      env_vars: ["PORT=4000", "FROM_CONFIG=1"],
      env_files: [["-", :configuration_dir, "/environment"]]
    )

    Mix.shell(Mix.Shell.Process)

    try do
      # A later --output wins over the task's _build/<env>/systemd default; a list key given
      # to the task replaces the configured list.
      Unit.run(["--output", tmp, "--env-vars", "PORT=5000"])
      text = File.read!(Path.join(tmp, "demo-app.service"))
      assert text =~ ~s(Environment="PORT=5000")
      refute text =~ "FROM_CONFIG"
      assert text =~ "EnvironmentFile=-%E/demo-app/environment"
      assert text =~ "ExecStart=/srv/demo-app/current/bin/demo_app start"
      manifest = File.read!(Path.join(tmp, "demo-app.manifest.json"))
      assert manifest =~ ~s("version": "#{Mix.Project.config()[:version]}")
      assert manifest =~ ~s("expected_exposure": "1.1")
      # The task names the directory it really wrote, not its default.
      assert_received {:mix_shell, :info, ["vigil: wrote " <> ^tmp]}
    after
      Mix.shell(Mix.Shell.IO)
      Application.delete_env(:vigil, :unit)
      System.delete_env("VIGIL_UNIT")
    end
  end

  test "the directory reported is the last --output, and none with --print" do
    assert Unit.written_to([], "/d") == "/d"
    assert Unit.written_to(["--output", "/a", "--x", "y", "--output=/b"], "/d") == "/b"
    assert Unit.written_to(["--output", "/a", "--print"], "/d") == nil
  end

  test "a refused setting raises with the key" do
    System.put_env("VIGIL_UNIT", @bin)
    Application.put_env(:vigil, :unit, app_name: "foo", watchdog_sec: "soon")
    Mix.shell(Mix.Shell.Process)

    try do
      assert_raise Mix.Error, ~r/watchdog_sec/, fn -> Unit.run([]) end
    after
      Mix.shell(Mix.Shell.IO)
      Application.delete_env(:vigil, :unit)
      System.delete_env("VIGIL_UNIT")
    end
  end

  test "runtime_environment_service needs bin/runtime-environment in the release" do
    tmp = Path.join(System.tmp_dir!(), "vigil-rtenv-#{System.unique_integer([:positive])}")
    File.mkdir_p!(Path.join(tmp, "bin"))
    on = ["--app-name", "a", "--runtime-environment-service", "yes"]

    assert_raise Mix.Error,
                 ~r/runtime_environment_service: the release has no bin\/runtime-env/,
                 fn ->
                   Unit.check_runtime_environment!(on, [tmp])
                 end

    File.write!(Path.join(tmp, "bin/runtime-environment"), "#!/bin/sh\n")
    assert Unit.check_runtime_environment!(on, [tmp]) == :ok

    assert Unit.check_runtime_environment!(["--runtime-environment-service=no"], ["/nonexistent"]) ==
             :ok

    # A script the host provides is not the release's to ship; one in the release is checked.
    assert Unit.check_runtime_environment!(
             ["--runtime-environment-service-script", "/usr/local/bin/env-file"],
             ["/nonexistent"]
           ) == :ok

    assert_raise Mix.Error, ~r/bin\/other/, fn ->
      Unit.check_runtime_environment!(
        [
          "--runtime-environment-service",
          "--runtime-environment-service-script",
          "@{current_dir}/bin/other"
        ],
        [tmp]
      )
    end

    assert Unit.release_dirs([app: :a, releases: [a: [overlays: ["ov"]]]], []) |> hd() == "ov"
    File.rm_rf!(tmp)
  end
end
