defmodule Mix.Tasks.Vigil.Gen.UnitTest do
  use ExUnit.Case, async: false

  alias Mix.Tasks.Vigil.Gen.Unit

  @bin Path.expand("../../priv/vigil-unit", __DIR__)

  test "project defaults become arguments and config wins" do
    args =
      Unit.unit_args([app: :foo_bar, version: "1.2.3", default_release: :foo_rel],
        hardening: :standard,
        env_vars: ["PORT=4000", "X=a b"],
        dynamic_user: true,
        version: "9.9.9"
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

  test "a single release names the release" do
    assert "--release-name" in Unit.unit_args([app: :a, releases: [web: []]], [])
    refute "--release-name" in Unit.unit_args([app: :a, releases: [x: [], y: []]], [])
  end

  @tag :tmp_dir
  test "writes the unit with the project's version and the configured keys", %{tmp_dir: tmp} do
    System.put_env("VIGIL_UNIT", @bin)
    Application.put_env(:vigil, :unit, app_name: "demo_app", env_vars: ["PORT=4000"])
    Mix.shell(Mix.Shell.Process)

    try do
      # A later --output wins over the task's _build/<env>/systemd default.
      Unit.run(["--output", tmp])
      text = File.read!(Path.join(tmp, "demo-app.service"))
      assert text =~ ~s(Environment="PORT=4000")
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

    try do
      assert_raise Mix.Error, ~r/watchdog_sec/, fn -> Unit.run([]) end
    after
      Application.delete_env(:vigil, :unit)
      System.delete_env("VIGIL_UNIT")
    end
  end
end
