defmodule Vigil.MixProject do
  use Mix.Project

  # The version, description, licences, links and file list have one home, src/vigil.app.src,
  # which rebar3 and rebar3_hex read: this file reads them there.
  @app_src Path.join(__DIR__, "src/vigil.app.src")
  @external_resource @app_src
  {:ok, [{:application, :vigil, app}]} = :file.consult(@app_src)
  @app app

  def project do
    [
      app: :vigil,
      version: to_string(@app[:vsn]),
      description: to_string(@app[:description]),
      package: package(),
      source_url: links()["Source"],
      elixir: "~> 1.14",
      compilers: [:vigil_c] ++ Mix.compilers(),
      erlc_paths: ["src"],
      erlc_options: [:debug_info, :warnings_as_errors],
      elixirc_paths: ["lib"],
      test_paths: ["test"],
      test_pattern: "*_test.exs",
      start_permanent: Mix.env() == :prod,
      deps: [],
      docs: [main: "readme", extras: ["README.md", "CHANGELOG.md"], source_url: links()["Source"]]
    ]
  end

  # What hex publishes: exactly the app.src's {files, ...} (make test-package builds them alone).
  defp package do
    [
      licenses: Enum.map(@app[:licenses], &to_string/1),
      links: links(),
      files: Enum.map(@app[:files], &to_string/1),
      build_tools: ["mix", "rebar3", "make"]
    ]
  end

  defp links, do: Map.new(@app[:links], fn {name, url} -> {to_string(name), to_string(url)} end)

  # As rebar3 reads it in src/vigil.app.src. The application environment's defaults and checks
  # are in src/vigil_config.erl.
  def application do
    [mod: @app[:mod], registered: @app[:registered]]
  end
end

defmodule Mix.Tasks.Compile.VigilC do
  @moduledoc false
  # Builds the NIF, the unit generator and the templates with the project's Makefile.
  use Mix.Task.Compiler

  @impl Mix.Task.Compiler
  def run(_args) do
    # The artefacts go where mix looks for them: the app's build directory, whether or not its
    # priv/ is a link to the sources' (see PRIV in the Makefile).
    priv = Path.join(Mix.Project.app_path(), "priv")
    make = ["-s", "all", "PRIV=#{priv}"]

    case System.cmd(gnu_make(), make,
           cd: __DIR__,
           into: IO.stream(:stdio, :line),
           stderr_to_stdout: true
         ) do
      {_, 0} -> {:ok, []}
      {_, status} -> Mix.raise("make all failed with status #{status}")
    end
  end

  # The Makefile is GNU make's: on FreeBSD that is gmake, make being BSD make.
  defp gnu_make do
    case :os.type() do
      {:unix, :freebsd} -> "gmake"
      _ -> "make"
    end
  end
end
